"""Offerings: listing by visibility, create/read/update/delete, capacity raises and invite codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.courses import Campus, make_campus, make_course, make_enrollment, make_offering
from tests.fixtures.factories import auth_headers, make_user
from twosigma.config import Settings
from twosigma.courses.models import CourseOffering
from twosigma.enrollments.models import CourseEnrollment
from twosigma.enums import EnrollmentStatus, Visibility

API = "/api/v1"
NOW = datetime.now(UTC)


@pytest.fixture
async def campus(db: AsyncSession) -> Campus:
    return await make_campus(db)


class TestListOfferings:
    async def test_students_see_only_public_offerings_without_invite_codes(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        await make_offering(db, course=campus.course, visibility=Visibility.UNLISTED)
        await make_offering(db, course=campus.course, visibility=Visibility.INVITE_ONLY, invite_code="secret-1")
        r = await client.get(
            f"{API}/courses/{campus.course.id}/offerings", headers=auth_headers(settings, campus.student)
        )
        assert r.status_code == 200
        items = r.json()["items"]
        assert [(o["id"], o["visibility"], o["invite_code"]) for o in items] == [(campus.offering.id, "PUBLIC", None)]

    async def test_staff_see_every_offering_and_invite_codes(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        await make_offering(db, course=campus.course, visibility=Visibility.UNLISTED)
        await make_offering(db, course=campus.course, visibility=Visibility.INVITE_ONLY, invite_code="secret-2")
        r = await client.get(f"{API}/courses/{campus.course.id}/offerings", headers=auth_headers(settings, campus.ta))
        assert r.json()["total"] == 3
        assert "secret-2" in [o["invite_code"] for o in r.json()["items"]]

    async def test_offerings_of_an_unpublished_course_are_404_for_students(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        draft = await make_course(db, university=campus.university, is_published=False)
        r = await client.get(f"{API}/courses/{draft.id}/offerings", headers=auth_headers(settings, campus.outsider))
        assert r.status_code == 404

    async def test_bad_page_is_422(self, client: httpx.AsyncClient, settings: Settings, campus: Campus) -> None:
        r = await client.get(
            f"{API}/courses/{campus.course.id}/offerings", params={"page": 0}, headers=auth_headers(settings, campus.ta)
        )
        assert r.status_code == 422

    async def test_anonymous_caller_gets_401(self, client: httpx.AsyncClient, campus: Campus) -> None:
        assert (await client.get(f"{API}/courses/{campus.course.id}/offerings")).status_code == 401


class TestCreateOffering:
    async def test_instructor_creates_an_offering_in_the_courses_university(
        self, client: httpx.AsyncClient, settings: Settings, campus: Campus
    ) -> None:
        body = {
            "term_name": "Fall 2026",
            "starts_at": (NOW + timedelta(days=10)).isoformat(),
            "ends_at": (NOW + timedelta(days=100)).isoformat(),
            "capacity": 30,
        }
        r = await client.post(
            f"{API}/courses/{campus.course.id}/offerings", json=body, headers=auth_headers(settings, campus.instructor)
        )
        assert r.status_code == 201, r.text
        data = r.json()
        assert (data["university_id"], data["visibility"], data["capacity"], data["invite_code"]) == (
            campus.university.id,
            "PUBLIC",
            30,
            None,
        )

    async def test_invite_only_offering_gets_an_invite_code(
        self, client: httpx.AsyncClient, settings: Settings, campus: Campus
    ) -> None:
        r = await client.post(
            f"{API}/courses/{campus.course.id}/offerings",
            json={"term_name": "Private", "visibility": "INVITE_ONLY"},
            headers=auth_headers(settings, campus.instructor),
        )
        assert r.status_code == 201
        assert len(r.json()["invite_code"]) >= 12

    @pytest.mark.parametrize(
        "overrides",
        [
            {"starts_at": (NOW + timedelta(days=2)).isoformat(), "ends_at": (NOW + timedelta(days=1)).isoformat()},
            {"enrollment_start": NOW.isoformat(), "enrollment_end": NOW.isoformat()},
            {"capacity": -1},
            {"starts_at": "2026-01-01T00:00:00"},  # no time zone
            {"term_name": ""},
            {"visibility": "SECRET"},
        ],
    )
    async def test_invalid_body_is_422(
        self, client: httpx.AsyncClient, settings: Settings, campus: Campus, overrides: dict[str, object]
    ) -> None:
        body: dict[str, object] = {"term_name": "Term"} | overrides
        r = await client.post(
            f"{API}/courses/{campus.course.id}/offerings", json=body, headers=auth_headers(settings, campus.instructor)
        )
        assert r.status_code == 422
        assert r.json()["error"]["code"] == "validation_error"

    async def test_ta_gets_403(self, client: httpx.AsyncClient, settings: Settings, campus: Campus) -> None:
        r = await client.post(
            f"{API}/courses/{campus.course.id}/offerings",
            json={"term_name": "T"},
            headers=auth_headers(settings, campus.ta),
        )
        assert r.status_code == 403

    async def test_admin_of_another_university_gets_404(
        self, client: httpx.AsyncClient, settings: Settings, campus: Campus
    ) -> None:
        r = await client.post(
            f"{API}/courses/{campus.course.id}/offerings",
            json={"term_name": "T"},
            headers=auth_headers(settings, campus.outsider_admin),
        )
        assert r.status_code == 404

    async def test_anonymous_caller_gets_401(self, client: httpx.AsyncClient, campus: Campus) -> None:
        r = await client.post(f"{API}/courses/{campus.course.id}/offerings", json={"term_name": "T"})
        assert r.status_code == 401


class TestGetOffering:
    @pytest.mark.parametrize("visibility", [Visibility.UNLISTED, Visibility.INVITE_ONLY])
    async def test_hidden_offerings_are_reachable_by_id_without_their_invite_code(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus, visibility: Visibility
    ) -> None:
        offering = await make_offering(
            db, course=campus.course, visibility=visibility, invite_code=f"code-{visibility}"
        )
        r = await client.get(f"{API}/offerings/{offering.id}", headers=auth_headers(settings, campus.outsider))
        assert r.status_code == 200
        assert r.json()["invite_code"] is None

    async def test_staff_see_the_invite_code(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        offering = await make_offering(db, course=campus.course, visibility=Visibility.INVITE_ONLY, invite_code="abc")
        r = await client.get(f"{API}/offerings/{offering.id}", headers=auth_headers(settings, campus.instructor))
        assert r.json()["invite_code"] == "abc"

    async def test_offering_of_an_unpublished_course_is_404_for_another_tenant(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        draft = await make_course(db, university=campus.university, is_published=False)
        offering = await make_offering(db, course=draft)
        r = await client.get(f"{API}/offerings/{offering.id}", headers=auth_headers(settings, campus.outsider_admin))
        assert r.status_code == 404

    async def test_non_numeric_id_is_422(self, client: httpx.AsyncClient, settings: Settings, campus: Campus) -> None:
        assert (
            await client.get(f"{API}/offerings/x", headers=auth_headers(settings, campus.student))
        ).status_code == 422

    async def test_anonymous_caller_gets_401(self, client: httpx.AsyncClient, campus: Campus) -> None:
        assert (await client.get(f"{API}/offerings/{campus.offering.id}")).status_code == 401


class TestUpdateOffering:
    async def test_dates_are_checked_against_the_stored_values(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        offering = await make_offering(db, course=campus.course, starts_at=NOW, ends_at=NOW + timedelta(days=30))
        r = await client.patch(
            f"{API}/offerings/{offering.id}",
            json={"starts_at": (NOW + timedelta(days=31)).isoformat()},
            headers=auth_headers(settings, campus.instructor),
        )
        assert r.status_code == 422

    async def test_raising_capacity_promotes_the_oldest_waitlisted_first(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        offering = await make_offering(db, course=campus.course, capacity=1)
        await make_enrollment(db, user=await make_user(db), offering=offering)
        newest = await make_enrollment(
            db, user=await make_user(db), offering=offering, status=EnrollmentStatus.WAITLISTED, enrolled_at=NOW
        )
        oldest = await make_enrollment(
            db,
            user=await make_user(db),
            offering=offering,
            status=EnrollmentStatus.WAITLISTED,
            enrolled_at=NOW - timedelta(hours=1),
        )
        r = await client.patch(
            f"{API}/offerings/{offering.id}", json={"capacity": 2}, headers=auth_headers(settings, campus.instructor)
        )
        assert r.status_code == 200
        statuses = dict(
            (
                await db.execute(
                    select(CourseEnrollment.id, CourseEnrollment.status).execution_options(populate_existing=True)
                )
            ).all()
        )
        assert statuses[oldest.id] is EnrollmentStatus.ACTIVE
        assert statuses[newest.id] is EnrollmentStatus.WAITLISTED

    async def test_removing_the_capacity_promotes_everyone(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        offering = await make_offering(db, course=campus.course, capacity=0)
        for _ in range(3):
            await make_enrollment(db, user=await make_user(db), offering=offering, status=EnrollmentStatus.WAITLISTED)
        r = await client.patch(
            f"{API}/offerings/{offering.id}", json={"capacity": None}, headers=auth_headers(settings, campus.instructor)
        )
        assert r.status_code == 200
        rows = await db.scalars(
            select(CourseEnrollment.status).where(CourseEnrollment.course_offering_id == offering.id)
        )
        assert set(rows) == {EnrollmentStatus.ACTIVE}

    async def test_switching_to_invite_only_creates_a_code(
        self, client: httpx.AsyncClient, settings: Settings, campus: Campus
    ) -> None:
        r = await client.patch(
            f"{API}/offerings/{campus.offering.id}",
            json={"visibility": "INVITE_ONLY"},
            headers=auth_headers(settings, campus.admin),
        )
        assert r.json()["invite_code"]

    async def test_null_term_name_is_422(self, client: httpx.AsyncClient, settings: Settings, campus: Campus) -> None:
        r = await client.patch(
            f"{API}/offerings/{campus.offering.id}",
            json={"term_name": None},
            headers=auth_headers(settings, campus.admin),
        )
        assert r.status_code == 422

    async def test_ta_gets_403(self, client: httpx.AsyncClient, settings: Settings, campus: Campus) -> None:
        r = await client.patch(
            f"{API}/offerings/{campus.offering.id}", json={"capacity": 5}, headers=auth_headers(settings, campus.ta)
        )
        assert r.status_code == 403

    async def test_admin_of_another_university_gets_404(
        self, client: httpx.AsyncClient, settings: Settings, campus: Campus
    ) -> None:
        r = await client.patch(
            f"{API}/offerings/{campus.offering.id}",
            json={"capacity": 5},
            headers=auth_headers(settings, campus.outsider_admin),
        )
        assert r.status_code == 404

    async def test_anonymous_caller_gets_401(self, client: httpx.AsyncClient, campus: Campus) -> None:
        assert (await client.patch(f"{API}/offerings/{campus.offering.id}", json={})).status_code == 401


class TestDeleteOffering:
    async def test_instructor_deletes_an_offering(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        r = await client.delete(
            f"{API}/offerings/{campus.offering.id}", headers=auth_headers(settings, campus.instructor)
        )
        assert r.status_code == 204
        assert await db.scalar(select(CourseOffering.id).where(CourseOffering.id == campus.offering.id)) is None

    async def test_student_gets_403(self, client: httpx.AsyncClient, settings: Settings, campus: Campus) -> None:
        r = await client.delete(f"{API}/offerings/{campus.offering.id}", headers=auth_headers(settings, campus.student))
        assert r.status_code == 403

    async def test_admin_of_another_university_gets_404(
        self, client: httpx.AsyncClient, settings: Settings, campus: Campus
    ) -> None:
        r = await client.delete(
            f"{API}/offerings/{campus.offering.id}", headers=auth_headers(settings, campus.outsider_admin)
        )
        assert r.status_code == 404

    async def test_anonymous_caller_gets_401(self, client: httpx.AsyncClient, campus: Campus) -> None:
        assert (await client.delete(f"{API}/offerings/{campus.offering.id}")).status_code == 401


class TestInviteCode:
    async def test_regenerating_replaces_the_code(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        offering = await make_offering(db, course=campus.course, visibility=Visibility.INVITE_ONLY, invite_code="old")
        r = await client.post(
            f"{API}/offerings/{offering.id}/invite-code", headers=auth_headers(settings, campus.instructor)
        )
        assert r.status_code == 200
        assert r.json()["invite_code"] not in (None, "old")

    async def test_clearing_removes_the_code(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        offering = await make_offering(db, course=campus.course, visibility=Visibility.INVITE_ONLY, invite_code="gone")
        r = await client.delete(
            f"{API}/offerings/{offering.id}/invite-code", headers=auth_headers(settings, campus.instructor)
        )
        assert r.status_code == 204
        r = await client.get(f"{API}/offerings/{offering.id}", headers=auth_headers(settings, campus.instructor))
        assert r.json()["invite_code"] is None

    async def test_student_gets_403(self, client: httpx.AsyncClient, settings: Settings, campus: Campus) -> None:
        r = await client.post(
            f"{API}/offerings/{campus.offering.id}/invite-code", headers=auth_headers(settings, campus.student)
        )
        assert r.status_code == 403

    async def test_admin_of_another_university_gets_404(
        self, client: httpx.AsyncClient, settings: Settings, campus: Campus
    ) -> None:
        r = await client.delete(
            f"{API}/offerings/{campus.offering.id}/invite-code", headers=auth_headers(settings, campus.outsider_admin)
        )
        assert r.status_code == 404

    async def test_non_numeric_id_is_422(self, client: httpx.AsyncClient, settings: Settings, campus: Campus) -> None:
        r = await client.post(f"{API}/offerings/x/invite-code", headers=auth_headers(settings, campus.admin))
        assert r.status_code == 422

    async def test_anonymous_caller_gets_401(self, client: httpx.AsyncClient, campus: Campus) -> None:
        assert (await client.post(f"{API}/offerings/{campus.offering.id}/invite-code")).status_code == 401
