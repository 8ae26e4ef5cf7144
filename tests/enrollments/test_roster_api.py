"""Rosters (staff) and the caller's own enrolments."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from tests.fixtures.courses import Campus, make_campus, make_course, make_enrollment, make_offering
from tests.fixtures.factories import auth_headers, make_user
from twosigma.config import Settings
from twosigma.enums import EnrollmentStatus

API = "/api/v1"


@pytest.fixture
async def campus(db: AsyncSession) -> Campus:
    return await make_campus(db)


@contextmanager
def count_queries(engine: AsyncEngine) -> Iterator[list[str]]:
    statements: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", before)


class TestRoster:
    async def test_staff_see_each_enrolment_with_its_user(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        await make_enrollment(db, user=campus.student, offering=campus.offering)
        r = await client.get(
            f"{API}/offerings/{campus.offering.id}/enrollments", headers=auth_headers(settings, campus.ta)
        )
        assert r.status_code == 200
        [entry] = r.json()["items"]
        assert entry["user"] == {
            "id": campus.student.id,
            "email": campus.student.email,
            "full_name": campus.student.full_name,
        }
        assert entry["status"] == "ACTIVE"

    async def test_filters_by_status(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        await make_enrollment(db, user=campus.student, offering=campus.offering)
        waiting = await make_enrollment(
            db, user=await make_user(db), offering=campus.offering, status=EnrollmentStatus.WAITLISTED
        )
        r = await client.get(
            f"{API}/offerings/{campus.offering.id}/enrollments",
            params={"status": "WAITLISTED"},
            headers=auth_headers(settings, campus.instructor),
        )
        assert [e["id"] for e in r.json()["items"]] == [waiting.id]

    async def test_query_count_does_not_grow_with_the_roster(
        self, client: httpx.AsyncClient, db: AsyncSession, db_engine: AsyncEngine, settings: Settings, campus: Campus
    ) -> None:
        small = await make_offering(db, course=campus.course)
        large = await make_offering(db, course=campus.course)
        for offering, size in ((small, 3), (large, 30)):
            for _ in range(size):
                await make_enrollment(db, user=await make_user(db), offering=offering)
        headers = auth_headers(settings, campus.instructor)
        counts = []
        for offering in (small, large):
            with count_queries(db_engine) as statements:
                r = await client.get(f"{API}/offerings/{offering.id}/enrollments?limit=100", headers=headers)
            assert r.status_code == 200
            counts.append(len(statements))
        assert len(r.json()["items"]) == 30
        assert 0 < counts[0] == counts[1]

    async def test_student_gets_403(self, client: httpx.AsyncClient, settings: Settings, campus: Campus) -> None:
        r = await client.get(
            f"{API}/offerings/{campus.offering.id}/enrollments", headers=auth_headers(settings, campus.student)
        )
        assert r.status_code == 403

    async def test_admin_of_another_university_gets_404(
        self, client: httpx.AsyncClient, settings: Settings, campus: Campus
    ) -> None:
        r = await client.get(
            f"{API}/offerings/{campus.offering.id}/enrollments", headers=auth_headers(settings, campus.outsider_admin)
        )
        assert r.status_code == 404

    async def test_unknown_status_filter_is_422(
        self, client: httpx.AsyncClient, settings: Settings, campus: Campus
    ) -> None:
        r = await client.get(
            f"{API}/offerings/{campus.offering.id}/enrollments",
            params={"status": "LOST"},
            headers=auth_headers(settings, campus.admin),
        )
        assert r.status_code == 422

    async def test_anonymous_caller_gets_401(self, client: httpx.AsyncClient, campus: Campus) -> None:
        assert (await client.get(f"{API}/offerings/{campus.offering.id}/enrollments")).status_code == 401


class TestMyEnrollments:
    async def test_lists_the_callers_enrolments_with_offering_and_course(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        mine = await make_enrollment(db, user=campus.student, offering=campus.offering)
        await make_enrollment(db, user=await make_user(db), offering=campus.offering)  # someone else's
        r = await client.get(f"{API}/users/me/enrollments", headers=auth_headers(settings, campus.student))
        assert r.status_code == 200
        [item] = r.json()["items"]
        assert item["id"] == mine.id
        assert item["course_offering"]["id"] == campus.offering.id
        assert item["course_offering"]["course"]["code"] == campus.course.code

    async def test_filters_by_status(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        await make_enrollment(db, user=campus.student, offering=campus.offering)
        other = await make_offering(db, course=await make_course(db, university=campus.university))
        dropped = await make_enrollment(db, user=campus.student, offering=other, status=EnrollmentStatus.DROPPED)
        r = await client.get(
            f"{API}/users/me/enrollments", params={"status": "DROPPED"}, headers=auth_headers(settings, campus.student)
        )
        assert [e["id"] for e in r.json()["items"]] == [dropped.id]

    async def test_limit_over_100_is_422(self, client: httpx.AsyncClient, settings: Settings, campus: Campus) -> None:
        r = await client.get(
            f"{API}/users/me/enrollments", params={"limit": 101}, headers=auth_headers(settings, campus.student)
        )
        assert r.status_code == 422

    async def test_anonymous_caller_gets_401(self, client: httpx.AsyncClient) -> None:
        assert (await client.get(f"{API}/users/me/enrollments")).status_code == 401
