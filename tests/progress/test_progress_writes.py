"""PUT /offerings/{id}/progress/content-items/{item}: upsert rules, the roll-up, completion, access."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.content import (
    Classroom,
    make_classroom,
    make_content_item,
    make_course,
    make_enrollment,
    make_module,
    root_of,
)
from tests.fixtures.factories import auth_headers, make_member
from twosigma.config import Settings
from twosigma.content.models import ContentItem
from twosigma.enrollments.models import CourseEnrollment
from twosigma.enums import EnrollmentStatus, UserRole
from twosigma.kit.clock import get_now
from twosigma.progress.models import UserModuleProgress
from twosigma.users.models import User


def url(room: Classroom, item: ContentItem | int) -> str:
    item_id = item if isinstance(item, int) else item.id
    return f"/api/v1/offerings/{room.campus.offering.id}/progress/content-items/{item_id}"


async def put(
    client: httpx.AsyncClient,
    settings: Settings,
    room: Classroom,
    item: ContentItem,
    percent: int,
    *,
    user: User | None = None,
    attempt: bool = False,
) -> httpx.Response:
    return await client.put(
        url(room, item),
        json={"progress_percent": percent, "attempt": attempt},
        headers=auth_headers(settings, user or room.enrolled),
    )


class TestRollUp:
    async def test_three_level_tree_rolls_up_to_every_ancestor_by_hand(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        # root ─┬─ U1 ─┬─ L1: i1, i2
        #       │      ├─ L2: i3
        #       │      └─ (U1's own item) u1a
        #       ├─ U2: i4
        #       └─ H (unpublished): h1 — not counted: students cannot reach it
        room = await make_classroom(db)
        root = await root_of(db, room.course)
        u1 = await make_module(db, parent=root)
        l1, l2 = await make_module(db, parent=u1), await make_module(db, parent=u1)
        u2 = await make_module(db, parent=root)
        hidden = await make_module(db, parent=root, is_published=False)
        ct = room.content_type
        i1, i2 = (
            await make_content_item(db, module=l1, content_type=ct),
            await make_content_item(db, module=l1, content_type=ct),
        )
        i3 = await make_content_item(db, module=l2, content_type=ct)
        await make_content_item(db, module=u1, content_type=ct)
        await make_content_item(db, module=u2, content_type=ct)
        await make_content_item(db, module=hidden, content_type=ct)

        r = await put(client, settings, room, i1, 100)
        assert r.status_code == 200, r.text
        # L1 = (100+0)/2 = 50; U1 = 100/4 = 25; root = 100/5 = 20.
        assert [(m["module_id"], m["progress_percent"]) for m in r.json()["modules"]] == [
            (l1.id, 50),
            (u1.id, 25),
            (root.id, 20),
        ]
        assert r.json()["course_progress_percent"] == 20

        r = await put(client, settings, room, i2, 50)
        # L1 = 150/2 = 75; U1 = 150/4 = 37.5 → 37; root = 150/5 = 30.
        assert [m["progress_percent"] for m in r.json()["modules"]] == [75, 37, 30]

        r = await put(client, settings, room, i3, 33)
        # L2 = 33; U1 = 183/4 = 45.75 → 45; root = 183/5 = 36.6 → 36.
        assert [(m["module_id"], m["progress_percent"]) for m in r.json()["modules"]] == [
            (l2.id, 33),
            (u1.id, 45),
            (root.id, 36),
        ]

        stored = dict(
            (
                await db.execute(
                    select(UserModuleProgress.module_id, UserModuleProgress.progress_percent).where(
                        UserModuleProgress.user_id == room.enrolled.id,
                        UserModuleProgress.course_offering_id == room.campus.offering.id,
                    )
                )
            ).all()
        )
        assert stored == {l1.id: 75, l2.id: 33, u1.id: 45, root.id: 36}

    async def test_module_completed_at_is_set_when_it_reaches_100(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        root = await root_of(db, room.course)
        lesson = await make_module(db, parent=root)
        done = await make_content_item(db, module=lesson, content_type=room.content_type)
        await make_content_item(db, module=root, content_type=room.content_type)
        r = await put(client, settings, room, done, 100)
        lesson_row, root_row = r.json()["modules"]
        assert (lesson_row["progress_percent"], lesson_row["completed_at"] is not None) == (100, True)
        assert (root_row["progress_percent"], root_row["completed_at"]) == (50, None)


class TestItemUpsert:
    async def test_progress_never_goes_down_and_completion_is_stamped_once(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, app: FastAPI
    ) -> None:
        room = await make_classroom(db)
        item = await make_content_item(db, module=await root_of(db, room.course), content_type=room.content_type)
        await make_content_item(db, module=await root_of(db, room.course), content_type=room.content_type)
        t0 = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)
        app.dependency_overrides[get_now] = lambda: t0
        first = (await put(client, settings, room, item, 80)).json()["item"]
        app.dependency_overrides[get_now] = lambda: t0 + timedelta(minutes=5)
        lower = (await put(client, settings, room, item, 40)).json()["item"]
        assert lower["progress_percent"] == 80
        assert lower["completed_at"] is None
        assert datetime.fromisoformat(lower["last_interacted_at"]) == t0 + timedelta(minutes=5)
        assert lower["first_started_at"] == first["first_started_at"]
        app.dependency_overrides[get_now] = lambda: t0 + timedelta(minutes=10)
        full = (await put(client, settings, room, item, 100)).json()["item"]
        assert datetime.fromisoformat(full["completed_at"]) == t0 + timedelta(minutes=10)
        app.dependency_overrides[get_now] = lambda: t0 + timedelta(minutes=20)
        again = (await put(client, settings, room, item, 100)).json()["item"]
        assert datetime.fromisoformat(again["completed_at"]) == t0 + timedelta(minutes=10)
        assert datetime.fromisoformat(again["last_interacted_at"]) == t0 + timedelta(minutes=20)

    async def test_attempt_true_counts_one_attempt_and_false_counts_none(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        item = await make_content_item(db, module=await root_of(db, room.course), content_type=room.content_type)
        await put(client, settings, room, item, 10, attempt=True)
        await put(client, settings, room, item, 20)
        r = await put(client, settings, room, item, 30, attempt=True)
        assert r.json()["item"]["attempts_count"] == 2

    async def test_bad_bodies_are_validation_errors(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        item = await make_content_item(db, module=await root_of(db, room.course), content_type=room.content_type)
        headers = auth_headers(settings, room.enrolled)
        for body in (
            {"progress_percent": 101},
            {"progress_percent": -1},
            {},
            {"progress_percent": 5, "attempt": "maybe"},
            {"progress_percent": 5, "extra": 1},
        ):
            r = await client.put(url(room, item), json=body, headers=headers)
            assert r.status_code == 422, body
            assert r.json()["error"]["code"] == "validation_error"


class TestCompletion:
    async def test_reaching_100_completes_the_enrolment_and_leaves_classmates_alone(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        classmate = await make_member(db, room.campus.university, UserRole.STUDENT)
        await make_enrollment(db, user=classmate, offering=room.campus.offering)
        root = await root_of(db, room.course)
        a = await make_content_item(db, module=root, content_type=room.content_type)
        b = await make_content_item(db, module=await make_module(db, parent=root), content_type=room.content_type)
        assert (await put(client, settings, room, a, 100)).json()["enrollment_status"] == "ACTIVE"
        r = await put(client, settings, room, b, 100)
        assert r.json()["course_progress_percent"] == 100
        assert r.json()["enrollment_status"] == "COMPLETED"
        rows = dict(
            (
                await db.execute(
                    select(CourseEnrollment.user_id, CourseEnrollment.status)
                    .where(CourseEnrollment.course_offering_id == room.campus.offering.id)
                    .execution_options(populate_existing=True)
                )
            ).all()
        )
        assert rows == {room.enrolled.id: EnrollmentStatus.COMPLETED, classmate.id: EnrollmentStatus.ACTIVE}
        completed_at = await db.scalar(
            select(CourseEnrollment.completed_at).where(CourseEnrollment.user_id == room.enrolled.id)
        )
        assert completed_at is not None

    async def test_once_completed_further_writes_are_refused(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        item = await make_content_item(db, module=await root_of(db, room.course), content_type=room.content_type)
        assert (await put(client, settings, room, item, 100)).json()["enrollment_status"] == "COMPLETED"
        r = await put(client, settings, room, item, 100)
        assert (r.status_code, r.json()["error"]["code"]) == (403, "enrollment_not_active")


class TestAccess:
    async def test_waitlisted_and_dropped_students_get_403(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        item = await make_content_item(db, module=await root_of(db, room.course), content_type=room.content_type)
        for status in (EnrollmentStatus.WAITLISTED, EnrollmentStatus.DROPPED, EnrollmentStatus.PENDING):
            user = await make_member(db, room.campus.university, UserRole.STUDENT)
            await make_enrollment(db, user=user, offering=room.campus.offering, status=status)
            r = await put(client, settings, room, item, 10, user=user)
            assert (r.status_code, r.json()["error"]["code"]) == (403, "enrollment_not_active"), status

    async def test_staff_who_are_not_enrolled_get_403_and_other_members_404(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        item = await make_content_item(db, module=await root_of(db, room.course), content_type=room.content_type)
        assert (await put(client, settings, room, item, 10, user=room.campus.instructor)).status_code == 403
        assert (await put(client, settings, room, item, 10, user=room.campus.student)).status_code == 404

    async def test_a_student_of_another_university_gets_404_and_anonymous_401(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        item = await make_content_item(db, module=await root_of(db, room.course), content_type=room.content_type)
        assert (await put(client, settings, room, item, 10, user=room.campus.outsider)).status_code == 404
        assert (await client.put(url(room, item), json={"progress_percent": 1})).status_code == 401

    async def test_an_item_of_another_course_or_under_an_unpublished_module_is_404(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        other = await make_course(db, university=room.campus.university)
        foreign = await make_content_item(db, module=await root_of(db, other), content_type=room.content_type)
        hidden = await make_module(db, parent=await root_of(db, room.course), is_published=False)
        draft = await make_content_item(db, module=await make_module(db, parent=hidden), content_type=room.content_type)
        for item in (foreign, draft):
            r = await put(client, settings, room, item, 10)
            assert r.status_code == 404
        assert (
            await client.put(
                url(room, 999_999_999), json={"progress_percent": 1}, headers=auth_headers(settings, room.enrolled)
            )
        ).status_code == 404
