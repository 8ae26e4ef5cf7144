"""GET /offerings/{id}/progress/me and GET /offerings/{id}/progress (staff)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from tests.fixtures.content import Classroom, make_classroom, make_content_item, make_enrollment, make_module, root_of
from tests.fixtures.factories import auth_headers, make_member
from twosigma.config import Settings
from twosigma.content.models import ContentItem
from twosigma.enums import EnrollmentStatus, UserRole
from twosigma.users.models import User


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


async def put(
    client: httpx.AsyncClient, settings: Settings, room: Classroom, user: User, item: ContentItem, percent: int
) -> None:
    r = await client.put(
        f"/api/v1/offerings/{room.campus.offering.id}/progress/content-items/{item.id}",
        json={"progress_percent": percent},
        headers=auth_headers(settings, user),
    )
    assert r.status_code == 200, r.text


class TestMyProgress:
    async def test_the_tree_carries_my_percents_per_module_and_item(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        root = await root_of(db, room.course)
        unit = await make_module(db, parent=root, title="Unit")
        hidden = await make_module(db, parent=root, is_published=False)
        await make_content_item(db, module=hidden, content_type=room.content_type)
        a = await make_content_item(db, module=unit, content_type=room.content_type)
        await make_content_item(db, module=unit, content_type=room.content_type)
        c = await make_content_item(db, module=root, content_type=room.content_type)
        await put(client, settings, room, room.enrolled, a, 90)
        await put(client, settings, room, room.enrolled, c, 100)
        r = await client.get(
            f"/api/v1/offerings/{room.campus.offering.id}/progress/me", headers=auth_headers(settings, room.enrolled)
        )
        assert r.status_code == 200, r.text
        body = r.json()
        # Unit = (90+0)/2 = 45; root = (90+0+100)/3 = 63.3 → 63; the hidden module is absent and not counted.
        assert (body["progress_percent"], body["enrollment_status"]) == (63, "ACTIVE")
        tree = body["root"]
        assert [m["title"] for m in tree["children"]] == ["Unit"]
        assert tree["children"][0]["progress_percent"] == 45
        assert [i["progress_percent"] for i in tree["children"][0]["content_items"]] == [90, 0]
        assert tree["content_items"][0]["completed_at"] is not None

    async def test_staff_who_are_not_enrolled_get_403_and_other_members_404(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        url = f"/api/v1/offerings/{room.campus.offering.id}/progress/me"
        assert (await client.get(url, headers=auth_headers(settings, room.campus.ta))).status_code == 403
        assert (await client.get(url, headers=auth_headers(settings, room.campus.student))).status_code == 404
        assert (await client.get(url, headers=auth_headers(settings, room.campus.outsider))).status_code == 404
        assert (await client.get(url)).status_code == 401
        bad = await client.get("/api/v1/offerings/0/progress/me", headers=auth_headers(settings, room.enrolled))
        assert bad.status_code == 422


class TestOfferingProgress:
    async def test_staff_see_one_row_per_student_and_the_mean(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        root = await root_of(db, room.course)
        a = await make_content_item(db, module=root, content_type=room.content_type)
        b = await make_content_item(db, module=root, content_type=room.content_type)
        second = await make_member(db, room.campus.university, UserRole.STUDENT, full_name="Zed")
        await make_enrollment(db, user=second, offering=room.campus.offering)
        waiting = await make_member(db, room.campus.university, UserRole.STUDENT)
        await make_enrollment(db, user=waiting, offering=room.campus.offering, status=EnrollmentStatus.WAITLISTED)
        await put(client, settings, room, room.enrolled, a, 100)
        await put(client, settings, room, room.enrolled, b, 50)
        await put(client, settings, room, second, a, 25)
        r = await client.get(
            f"/api/v1/offerings/{room.campus.offering.id}/progress", headers=auth_headers(settings, room.campus.ta)
        )
        assert r.status_code == 200, r.text
        body = r.json()
        rows = {row["user_id"]: row for row in body["items"]}
        assert set(rows) == {room.enrolled.id, second.id}
        # 150/2 = 75 and 25/2 = 12 (12.5 floored); mean (75+12)/2 = 43.5.
        assert (rows[room.enrolled.id]["progress_percent"], rows[room.enrolled.id]["completed_items"]) == (75, 1)
        assert (rows[second.id]["progress_percent"], rows[second.id]["completed_items"]) == (12, 0)
        assert rows[room.enrolled.id]["last_activity_at"] is not None
        assert (body["total"], body["content_items_count"], body["mean_progress_percent"]) == (2, 2, 43.5)

    async def test_the_query_count_does_not_grow_with_the_roster(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, db_engine: AsyncEngine
    ) -> None:
        counts = []
        for size in (1, 25):
            room = await make_classroom(db)
            item = await make_content_item(db, module=await root_of(db, room.course), content_type=room.content_type)
            for _ in range(size):
                user = await make_member(db, room.campus.university, UserRole.STUDENT)
                await make_enrollment(db, user=user, offering=room.campus.offering)
                await put(client, settings, room, user, item, 40)
            with count_queries(db_engine) as statements:
                r = await client.get(
                    f"/api/v1/offerings/{room.campus.offering.id}/progress?limit=100",
                    headers=auth_headers(settings, room.campus.instructor),
                )
            assert r.status_code == 200
            assert len(r.json()["items"]) == size + 1
            counts.append(len(statements))
        assert counts[0] == counts[1]

    async def test_pagination_and_validation(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        for _ in range(2):
            await make_enrollment(
                db, user=await make_member(db, room.campus.university, UserRole.STUDENT), offering=room.campus.offering
            )
        url = f"/api/v1/offerings/{room.campus.offering.id}/progress"
        headers = auth_headers(settings, room.campus.admin)
        page = (await client.get(f"{url}?limit=2&page=2", headers=headers)).json()
        assert (len(page["items"]), page["total"], page["pages"]) == (1, 3, 2)
        assert (await client.get(f"{url}?limit=101", headers=headers)).status_code == 422

    async def test_students_get_403_outsiders_404_anonymous_401(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        url = f"/api/v1/offerings/{room.campus.offering.id}/progress"
        assert (await client.get(url, headers=auth_headers(settings, room.enrolled))).status_code == 403
        assert (await client.get(url, headers=auth_headers(settings, room.campus.outsider_admin))).status_code == 404
        assert (await client.get(url)).status_code == 401
