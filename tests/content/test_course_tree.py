"""GET /courses/{id}/tree: nesting and order, published filtering, and a constant number of queries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import delete, event, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from tests.fixtures.content import Classroom, make_classroom, make_content_item, make_course, make_module, root_of
from tests.fixtures.factories import auth_headers
from twosigma.config import Settings
from twosigma.content.models import ContentItem, Module
from twosigma.content.tree_cache import TreeCache, TreeKey
from twosigma.courses.models import Course
from twosigma.enums import ModuleType
from twosigma.taxonomy.models import ContentType


@contextmanager
def count_queries(engine: AsyncEngine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def grow_tree(db: AsyncSession, room: Classroom, *, fanout: int, items_per_leaf: int) -> int:
    """Three levels of `fanout` children each, items on every leaf; returns the number of nodes added."""
    root = await root_of(db, room.course)
    level = [(root.id, 0)]
    added = 0
    for depth in (1, 2, 3):
        rows = [
            {
                "course_id": room.course.id,
                "parent_module_id": parent_id,
                "title": f"M{depth}.{parent_id}.{i}",
                "module_type": ModuleType.LESSON,
                "sequence_index": i,
                "depth": depth,
                "is_published": True,
            }
            for parent_id, _ in level
            for i in range(fanout)
        ]
        ids = (await db.scalars(insert(Module).returning(Module.id), rows)).all()
        level = [(m, depth) for m in ids]
        added += len(ids)
    items = [
        {
            "module_id": leaf,
            "course_id": room.course.id,
            "content_type_id": room.content_type.id,
            "title": f"Item {leaf}.{i}",
            "sequence_index": i,
        }
        for leaf, _ in level
        for i in range(items_per_leaf)
    ]
    await db.execute(insert(ContentItem), items)
    return added + len(items)


def walk(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node["children"]:
        yield from walk(child)


class TestCourseTree:
    async def test_the_tree_nests_modules_and_items_in_order(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        root = await root_of(db, room.course)
        u1, u2 = await make_module(db, parent=root, title="U1"), await make_module(db, parent=root, title="U2")
        lesson = await make_module(db, parent=u1, title="L1")
        first = await make_content_item(
            db, module=lesson, content_type=room.content_type, title="Read", estimated_duration_seconds=60
        )
        second = await make_content_item(db, module=lesson, content_type=room.content_type, title="Quiz")
        r = await client.get(f"/api/v1/courses/{room.course.id}/tree", headers=auth_headers(settings, room.enrolled))
        assert r.status_code == 200, r.text
        tree = r.json()["root"]
        assert tree["id"] == root.id
        assert [c["title"] for c in tree["children"]] == ["U1", "U2"]
        assert tree["children"][1]["id"] == u2.id
        items = tree["children"][0]["children"][0]["content_items"]
        assert [(i["id"], i["sequence_index"]) for i in items] == [(first.id, 0), (second.id, 1)]
        assert items[0] == {
            "id": first.id,
            "title": "Read",
            "content_type": room.content_type.name,
            "content_type_id": room.content_type.id,
            "sequence_index": 0,
            "estimated_duration_seconds": 60,
        }

    async def test_students_do_not_see_unpublished_modules_or_anything_below_them(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        root = await root_of(db, room.course)
        shown = await make_module(db, parent=root, title="Shown")
        hidden = await make_module(db, parent=root, title="Hidden", is_published=False)
        await make_module(db, parent=hidden, title="Published but under hidden")
        await make_module(db, parent=shown, title="Draft", is_published=False)
        r = await client.get(f"/api/v1/courses/{room.course.id}/tree", headers=auth_headers(settings, room.enrolled))
        titles = {n["title"] for n in walk(r.json()["root"])}
        assert titles == {room.course.title, "Shown"}

    async def test_staff_see_every_module_with_its_published_flag(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        hidden = await make_module(db, parent=await root_of(db, room.course), is_published=False)
        await make_module(db, parent=hidden)
        r = await client.get(f"/api/v1/courses/{room.course.id}/tree", headers=auth_headers(settings, room.campus.ta))
        nodes = list(walk(r.json()["root"]))
        assert len(nodes) == 3
        assert [n["is_published"] for n in nodes] == [True, False, True]

    async def test_the_query_count_does_not_grow_with_a_tree_of_over_a_thousand_nodes(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, db_engine: AsyncEngine
    ) -> None:
        small, big = await make_classroom(db), await make_classroom(db)
        await grow_tree(db, small, fanout=1, items_per_leaf=1)
        added = await grow_tree(db, big, fanout=10, items_per_leaf=1)
        assert added >= 2000
        counts = []
        # The runtime settings (read once per process and cached) are loaded before the count starts.
        warm = await make_classroom(db)
        await client.get(f"/api/v1/courses/{warm.course.id}/tree", headers=auth_headers(settings, warm.enrolled))
        for room in (small, big):
            for user in (room.enrolled, room.campus.instructor):
                with count_queries(db_engine) as statements:
                    r = await client.get(f"/api/v1/courses/{room.course.id}/tree", headers=auth_headers(settings, user))
                assert r.status_code == 200
                counts.append(len([s for s in statements if "SAVEPOINT" not in s]))
        nodes = sum(1 + len(n["content_items"]) for n in walk(r.json()["root"]))
        assert nodes == added + 1
        small_student, small_staff, big_student, big_staff = counts
        assert (big_student, big_staff) == (small_student, small_staff)
        # user with grants (its read session's SAVEPOINTs filtered out), course, (enrolment for students), modules
        # with items (one UNION ALL), the tutor policy of the university and the course (one statement).
        assert big_student == 5
        assert big_staff == 4

    async def test_an_unpublished_course_is_404_for_an_enrolled_student(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        room.course.is_published = False
        await db.flush()
        r = await client.get(f"/api/v1/courses/{room.course.id}/tree", headers=auth_headers(settings, room.enrolled))
        assert r.status_code == 404

    async def test_member_who_is_not_enrolled_gets_403(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        r = await client.get(
            f"/api/v1/courses/{room.course.id}/tree", headers=auth_headers(settings, room.campus.student)
        )
        assert r.status_code == 403

    async def test_outsider_gets_404_and_anonymous_gets_401(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        other = await make_course(db, university=room.campus.other_university, is_published=False)
        url = f"/api/v1/courses/{room.course.id}/tree"
        assert (await client.get(url, headers=auth_headers(settings, room.campus.outsider))).status_code == 404
        assert (
            await client.get(f"/api/v1/courses/{other.id}/tree", headers=auth_headers(settings, room.campus.admin))
        ).status_code == 404
        assert (await client.get(url)).status_code == 401
        assert (
            await client.get("/api/v1/courses/x/tree", headers=auth_headers(settings, room.enrolled))
        ).status_code == 422


class TestTheTreeCache:
    """The tree's bytes are kept per (course, content version, view); the database moves the version on every change
    to the course's content, whoever makes it (migration 0005), so no change is ever served stale."""

    async def tree(self, client: httpx.AsyncClient, settings: Settings, room: Classroom, user: Any) -> dict[str, Any]:
        r = await client.get(f"/api/v1/courses/{room.course.id}/tree", headers=auth_headers(settings, user))
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    async def test_a_second_read_of_unchanged_content_runs_no_tree_query(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, db_engine: AsyncEngine
    ) -> None:
        room = await make_classroom(db)
        await grow_tree(db, room, fanout=3, items_per_leaf=2)
        first = await self.tree(client, settings, room, room.enrolled)
        with count_queries(db_engine) as statements:
            again = await self.tree(client, settings, room, room.enrolled)
        assert again == first
        # user with grants, course, enrolment: the access check; and the tutor policy (never cached).
        assert len([s for s in statements if "SAVEPOINT" not in s]) == 4
        assert not [s for s in statements if "UNION ALL" in s]

    async def test_content_written_behind_the_apps_back_is_seen_at_once(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        root = await root_of(db, room.course)
        await self.tree(client, settings, room, room.enrolled)
        module = await make_module(db, parent=root, title="Added by a script")
        item = await make_content_item(db, module=module, content_type=room.content_type, title="Fresh")
        titles = {n["title"] for n in walk((await self.tree(client, settings, room, room.enrolled))["root"])}
        assert "Added by a script" in titles
        await db.execute(update(ContentItem).where(ContentItem.id == item.id).values(title="Renamed"))
        tree = await self.tree(client, settings, room, room.enrolled)
        assert [i["title"] for n in walk(tree["root"]) for i in n["content_items"]] == ["Renamed"]
        await db.execute(delete(ContentItem).where(ContentItem.id == item.id))
        tree = await self.tree(client, settings, room, room.enrolled)
        assert [i for n in walk(tree["root"]) for i in n["content_items"]] == []

    async def test_an_edit_through_the_api_is_seen_by_the_next_read(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        module = await make_module(db, parent=await root_of(db, room.course), title="Before")
        await self.tree(client, settings, room, room.enrolled)
        r = await client.patch(
            f"/api/v1/modules/{module.id}", json={"title": "After"}, headers=auth_headers(settings, room.campus.admin)
        )
        assert r.status_code == 200, r.text
        titles = {n["title"] for n in walk((await self.tree(client, settings, room, room.enrolled))["root"])}
        assert "After" in titles
        assert "Before" not in titles

    async def test_a_content_type_renamed_is_renamed_in_every_tree_that_shows_it(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        module = await make_module(db, parent=await root_of(db, room.course))
        await make_content_item(db, module=module, content_type=room.content_type)
        await self.tree(client, settings, room, room.enrolled)
        await db.execute(update(ContentType).where(ContentType.id == room.content_type.id).values(name="renamed-type"))
        tree = await self.tree(client, settings, room, room.enrolled)
        assert [i["content_type"] for n in walk(tree["root"]) for i in n["content_items"]] == ["renamed-type"]

    async def test_the_staff_view_is_never_served_to_a_student(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        await make_module(db, parent=await root_of(db, room.course), title="Draft", is_published=False)
        staff = await self.tree(client, settings, room, room.campus.admin)
        assert "Draft" in {n["title"] for n in walk(staff["root"])}
        student = await self.tree(client, settings, room, room.enrolled)
        assert "Draft" not in {n["title"] for n in walk(student["root"])}

    async def test_the_version_moves_once_per_statement_and_a_course_with_content_deletes(
        self, db: AsyncSession
    ) -> None:
        room = await make_classroom(db)
        root = await root_of(db, room.course)

        async def version() -> int:
            value = await db.scalar(select(Course.content_version).where(Course.id == room.course.id))
            assert value is not None
            return value

        before = await version()
        await make_module(db, parent=root)
        assert await version() == before + 1
        await db.execute(update(Module).where(Module.course_id == room.course.id).values(title="All renamed"))
        assert await version() == before + 2
        await db.execute(delete(Course).where(Course.id == room.course.id))
        assert await db.scalar(select(func.count()).select_from(Module).where(Module.course_id == room.course.id)) == 0


class TestTreeCacheBounds:
    def key(self, course_id: int, version: int = 0, staff: bool = False) -> TreeKey:
        return TreeKey(course_id, version, staff)

    def test_a_new_version_replaces_the_old_one_of_the_same_view(self) -> None:
        cache = TreeCache(max_bytes=1000)
        cache.put(self.key(1, 1), b"old")
        cache.put(self.key(1, 1, staff=True), b"staff")
        cache.put(self.key(1, 2), b"new")
        assert cache.get(self.key(1, 1)) is None
        assert cache.get(self.key(1, 2)) == b"new"
        assert cache.get(self.key(1, 1, staff=True)) == b"staff"
        assert cache.size_bytes == len(b"new") + len(b"staff")

    def test_the_least_recently_read_tree_goes_first_when_full(self) -> None:
        cache = TreeCache(max_bytes=10)
        cache.put(self.key(1), b"aaaa")
        cache.put(self.key(2), b"bbbb")
        assert cache.get(self.key(1)) == b"aaaa"
        cache.put(self.key(3), b"cccc")
        assert cache.get(self.key(2)) is None
        assert {cache.get(self.key(1)), cache.get(self.key(3))} == {b"aaaa", b"cccc"}
        assert cache.size_bytes <= 10

    def test_a_tree_larger_than_the_whole_cache_is_not_kept(self) -> None:
        cache = TreeCache(max_bytes=4)
        cache.put(self.key(1), b"too large")
        assert len(cache) == 0
