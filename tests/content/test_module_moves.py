"""POST /modules/{id}/move: siblings stay contiguous on both sides, depths follow, cycles and the root refused."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.content import Classroom, make_classroom, make_course, make_module, root_of
from tests.fixtures.factories import auth_headers
from twosigma.config import Settings
from twosigma.content.models import Module


async def order(db: AsyncSession, parent_id: int) -> list[int]:
    rows = await db.execute(
        select(Module.id, Module.sequence_index)
        .where(Module.parent_module_id == parent_id)
        .order_by(Module.sequence_index)
        .execution_options(populate_existing=True)
    )
    pairs = [(r[0], r[1]) for r in rows]
    assert [i for _, i in pairs] == list(range(len(pairs))), f"not contiguous: {pairs}"
    return [m for m, _ in pairs]


async def depths(db: AsyncSession, *ids: int) -> list[int]:
    stmt = select(Module.id, Module.depth).where(Module.id.in_(ids)).execution_options(populate_existing=True)
    rows = {r[0]: r[1] for r in await db.execute(stmt)}
    return [rows[i] for i in ids]


async def move(
    client: httpx.AsyncClient, settings: Settings, room: Classroom, module_id: int, parent_id: int, index: int
) -> httpx.Response:
    return await client.post(
        f"/api/v1/modules/{module_id}/move",
        json={"parent_module_id": parent_id, "sequence_index": index},
        headers=auth_headers(settings, room.campus.instructor),
    )


class TestMoveModule:
    async def test_moving_to_another_parent_keeps_both_sibling_lists_contiguous(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        root = await root_of(db, room.course)
        a, b = await make_module(db, parent=root), await make_module(db, parent=root)
        a1, a2, a3 = [await make_module(db, parent=a) for _ in range(3)]
        b1, b2 = [await make_module(db, parent=b) for _ in range(2)]
        r = await move(client, settings, room, a2.id, b.id, 1)
        assert r.status_code == 200, r.text
        assert (r.json()["parent_module_id"], r.json()["sequence_index"]) == (b.id, 1)
        assert await order(db, a.id) == [a1.id, a3.id]
        assert await order(db, b.id) == [b1.id, a2.id, b2.id]

    async def test_reordering_within_one_parent_forwards_and_backwards(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        root = await root_of(db, room.course)
        m = [await make_module(db, parent=root) for _ in range(4)]
        assert (await move(client, settings, room, m[0].id, root.id, 3)).status_code == 200
        assert await order(db, root.id) == [m[1].id, m[2].id, m[3].id, m[0].id]
        assert (await move(client, settings, room, m[3].id, root.id, 0)).status_code == 200
        assert await order(db, root.id) == [m[3].id, m[1].id, m[2].id, m[0].id]

    async def test_depths_of_the_whole_moved_subtree_are_recomputed(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        root = await root_of(db, room.course)
        a, b = await make_module(db, parent=root), await make_module(db, parent=root)
        b1 = await make_module(db, parent=b)
        b11 = await make_module(db, parent=b1)
        b111 = await make_module(db, parent=b11)
        # b (depth 1) goes under a: b 2, b1 3, b11 4, b111 5.
        r = await move(client, settings, room, b.id, a.id, 0)
        assert r.status_code == 200, r.text
        assert r.json()["depth"] == 2
        assert await depths(db, b.id, b1.id, b11.id, b111.id) == [2, 3, 4, 5]
        # and back up to the root: 1, 2, 3, 4.
        assert (await move(client, settings, room, b.id, root.id, 0)).status_code == 200
        assert await depths(db, b.id, b1.id, b11.id, b111.id) == [1, 2, 3, 4]
        assert await order(db, root.id) == [b.id, a.id]

    async def test_moving_under_itself_or_a_descendant_is_a_cycle(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        a = await make_module(db, parent=await root_of(db, room.course))
        grandchild = await make_module(db, parent=await make_module(db, parent=a))
        for target in (a, grandchild):
            r = await move(client, settings, room, a.id, target.id, 0)
            assert r.status_code == 409
            assert r.json()["error"]["code"] == "module_cycle"

    async def test_the_root_cannot_move(self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings) -> None:
        room = await make_classroom(db)
        root = await root_of(db, room.course)
        a = await make_module(db, parent=root)
        r = await move(client, settings, room, root.id, a.id, 0)
        assert r.status_code == 409
        assert r.json()["error"]["code"] == "root_module"

    async def test_a_move_that_pushes_a_deep_subtree_past_sixteen_is_refused(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        root = await root_of(db, room.course)
        chain = root
        for _ in range(10):
            chain = await make_module(db, parent=chain)  # depth 10
        subtree = await make_module(db, parent=root)  # depth 1, with 6 levels below: deepest 7
        node = subtree
        for _ in range(6):
            node = await make_module(db, parent=node)
        # Under chain, subtree would be depth 11 and its deepest 17.
        r = await move(client, settings, room, subtree.id, chain.id, 0)
        assert r.status_code == 409
        assert r.json()["error"]["code"] == "depth_limit"
        assert r.json()["error"]["details"] == {"max_depth": 16, "depth": 17}
        assert await depths(db, subtree.id) == [1]

    async def test_an_index_past_the_end_is_refused(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        root = await root_of(db, room.course)
        a, b = await make_module(db, parent=root), await make_module(db, parent=root)
        same = await move(client, settings, room, a.id, root.id, 2)  # two siblings including itself: max 1
        other = await move(client, settings, room, a.id, b.id, 1)  # b has no children: max 0
        assert same.status_code == other.status_code == 422
        assert (same.json()["error"]["details"]["max"], other.json()["error"]["details"]["max"]) == (1, 0)

    async def test_a_parent_in_another_course_is_refused(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        a = await make_module(db, parent=await root_of(db, room.course))
        other_root = await root_of(db, await make_course(db, university=room.campus.university))
        r = await move(client, settings, room, a.id, other_root.id, 0)
        assert r.status_code == 422
        assert r.json()["error"]["code"] == "invalid_parent"

    async def test_bad_body_is_422_and_auth_rules_apply(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        root = await root_of(db, room.course)
        a = await make_module(db, parent=root)
        url = f"/api/v1/modules/{a.id}/move"
        body = {"parent_module_id": root.id, "sequence_index": 0}
        instructor = auth_headers(settings, room.campus.instructor)
        bad = await client.post(url, json={"parent_module_id": root.id, "sequence_index": -1}, headers=instructor)
        assert bad.status_code == 422
        assert bad.json()["error"]["code"] == "validation_error"
        assert (await client.post(url, json=body)).status_code == 401
        assert (await client.post(url, json=body, headers=auth_headers(settings, room.campus.ta))).status_code == 403
        outsider = auth_headers(settings, room.campus.outsider_admin)
        assert (await client.post(url, json=body, headers=outsider)).status_code == 404
