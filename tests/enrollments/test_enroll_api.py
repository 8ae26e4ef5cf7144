"""Self-enrolment (visibility, invite codes, window, prerequisites, capacity) and staff enrolment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.courses import Campus, make_campus, make_course, make_enrollment, make_offering, make_stranger
from tests.fixtures.factories import auth_headers, make_user
from tests.fixtures.tenancy import make_platform_admin
from twosigma.config import Settings
from twosigma.courses.models import CoursePrerequisite
from twosigma.enums import EnrollmentStatus, UserRole, Visibility
from twosigma.tenancy.models import UserUniversityRole

API = "/api/v1"
NOW = datetime.now(UTC)


@pytest.fixture
async def campus(db: AsyncSession) -> Campus:
    return await make_campus(db)


async def _roles(db: AsyncSession, user_id: int, university_id: int) -> set[UserRole]:
    rows = await db.scalars(
        select(UserUniversityRole.role).where(
            UserUniversityRole.user_id == user_id, UserUniversityRole.university_id == university_id
        )
    )
    return set(rows)


class TestSelfEnrolment:
    async def test_anyone_signed_in_enrols_in_a_public_offering_and_becomes_a_student(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        stranger = await make_stranger(db)
        r = await client.post(f"{API}/offerings/{campus.offering.id}/enroll", headers=auth_headers(settings, stranger))
        assert r.status_code == 201, r.text
        assert (r.json()["status"], r.json()["user_id"]) == ("ACTIVE", stranger.id)
        assert await _roles(db, stranger.id, campus.university.id) == {UserRole.STUDENT}

    async def test_an_existing_role_is_left_alone(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        r = await client.post(f"{API}/offerings/{campus.offering.id}/enroll", headers=auth_headers(settings, campus.ta))
        assert r.status_code == 201
        assert await _roles(db, campus.ta.id, campus.university.id) == {UserRole.TA}

    async def test_unlisted_offering_accepts_anyone(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        offering = await make_offering(db, course=campus.course, visibility=Visibility.UNLISTED)
        r = await client.post(f"{API}/offerings/{offering.id}/enroll", headers=auth_headers(settings, campus.outsider))
        assert r.status_code == 201

    @pytest.mark.parametrize("given", [None, "wrong-code"])
    async def test_invite_only_needs_the_right_code(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus, given: str | None
    ) -> None:
        offering = await make_offering(db, course=campus.course, visibility=Visibility.INVITE_ONLY, invite_code="right")
        r = await client.post(
            f"{API}/offerings/{offering.id}/enroll",
            json={"invite_code": given},
            headers=auth_headers(settings, campus.student),
        )
        assert r.status_code == 403
        assert r.json()["error"]["code"] == "invite_code_invalid"

    async def test_invite_only_admits_the_right_code(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        offering = await make_offering(db, course=campus.course, visibility=Visibility.INVITE_ONLY, invite_code="right")
        r = await client.post(
            f"{API}/offerings/{offering.id}/enroll",
            json={"invite_code": "right"},
            headers=auth_headers(settings, campus.student),
        )
        assert r.status_code == 201

    async def test_a_regenerated_code_replaces_the_old_one(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        offering = await make_offering(db, course=campus.course, visibility=Visibility.INVITE_ONLY, invite_code="old")
        r = await client.post(
            f"{API}/offerings/{offering.id}/invite-code", headers=auth_headers(settings, campus.instructor)
        )
        new_code = r.json()["invite_code"]
        url = f"{API}/offerings/{offering.id}/enroll"
        r = await client.post(url, json={"invite_code": "old"}, headers=auth_headers(settings, campus.student))
        assert r.status_code == 403
        r = await client.post(url, json={"invite_code": new_code}, headers=auth_headers(settings, campus.student))
        assert r.status_code == 201

    async def test_a_cleared_code_admits_nobody(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        offering = await make_offering(db, course=campus.course, visibility=Visibility.INVITE_ONLY, invite_code="gone")
        await client.delete(f"{API}/offerings/{offering.id}/invite-code", headers=auth_headers(settings, campus.admin))
        r = await client.post(
            f"{API}/offerings/{offering.id}/enroll",
            json={"invite_code": "gone"},
            headers=auth_headers(settings, campus.student),
        )
        assert r.status_code == 403

    @pytest.mark.parametrize(
        ("start", "end"),
        [(NOW + timedelta(days=1), None), (None, NOW - timedelta(seconds=1)), (NOW - timedelta(days=9), NOW)],
    )
    async def test_outside_the_window_is_409(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        campus: Campus,
        start: datetime | None,
        end: datetime | None,
    ) -> None:
        offering = await make_offering(db, course=campus.course, enrollment_start=start, enrollment_end=end)
        r = await client.post(f"{API}/offerings/{offering.id}/enroll", headers=auth_headers(settings, campus.student))
        assert r.status_code == 409
        assert r.json()["error"]["code"] == "enrollment_closed"

    async def test_inside_the_window_is_accepted(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        offering = await make_offering(
            db,
            course=campus.course,
            enrollment_start=NOW - timedelta(days=1),
            enrollment_end=NOW + timedelta(days=1),
        )
        r = await client.post(f"{API}/offerings/{offering.id}/enroll", headers=auth_headers(settings, campus.student))
        assert r.status_code == 201

    async def test_missing_prerequisites_are_listed(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        done = await make_course(db, university=campus.university, code="DONE-1")
        todo = await make_course(db, university=campus.university, code="TODO-1", title="To do")
        db.add_all(
            [
                CoursePrerequisite(course_id=campus.course.id, prerequisite_course_id=done.id),
                CoursePrerequisite(course_id=campus.course.id, prerequisite_course_id=todo.id),
            ]
        )
        await make_enrollment(
            db, user=campus.student, offering=await make_offering(db, course=done), status=EnrollmentStatus.COMPLETED
        )
        # ACTIVE in the other prerequisite is not enough.
        await make_enrollment(db, user=campus.student, offering=await make_offering(db, course=todo))
        r = await client.post(
            f"{API}/offerings/{campus.offering.id}/enroll", headers=auth_headers(settings, campus.student)
        )
        assert r.status_code == 409
        assert r.json()["error"]["code"] == "prerequisites_not_met"
        assert r.json()["error"]["details"] == {"missing": [{"id": todo.id, "code": "TODO-1", "title": "To do"}]}

    async def test_met_prerequisites_admit(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        done = await make_course(db, university=campus.university)
        db.add(CoursePrerequisite(course_id=campus.course.id, prerequisite_course_id=done.id))
        await make_enrollment(
            db, user=campus.student, offering=await make_offering(db, course=done), status=EnrollmentStatus.COMPLETED
        )
        r = await client.post(
            f"{API}/offerings/{campus.offering.id}/enroll", headers=auth_headers(settings, campus.student)
        )
        assert r.status_code == 201

    async def test_unpublished_course_is_404(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        draft = await make_course(db, university=campus.university, is_published=False)
        offering = await make_offering(db, course=draft)
        r = await client.post(f"{API}/offerings/{offering.id}/enroll", headers=auth_headers(settings, campus.student))
        assert r.status_code == 404

    async def test_a_full_offering_waitlists(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        offering = await make_offering(db, course=campus.course, capacity=1)
        await make_enrollment(db, user=await make_user(db), offering=offering)
        r = await client.post(f"{API}/offerings/{offering.id}/enroll", headers=auth_headers(settings, campus.student))
        assert r.status_code == 201
        assert r.json()["status"] == "WAITLISTED"

    async def test_enrolling_twice_is_409(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        await make_enrollment(db, user=campus.student, offering=campus.offering, status=EnrollmentStatus.WAITLISTED)
        r = await client.post(
            f"{API}/offerings/{campus.offering.id}/enroll", headers=auth_headers(settings, campus.student)
        )
        assert r.status_code == 409
        assert r.json()["error"]["code"] == "already_enrolled"

    async def test_a_dropped_student_re_enrols(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        old = await make_enrollment(db, user=campus.student, offering=campus.offering, status=EnrollmentStatus.DROPPED)
        r = await client.post(
            f"{API}/offerings/{campus.offering.id}/enroll", headers=auth_headers(settings, campus.student)
        )
        assert r.status_code == 201
        assert (r.json()["id"], r.json()["status"]) == (old.id, "ACTIVE")

    async def test_a_dropped_student_re_enrolling_into_a_full_offering_is_waitlisted(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        offering = await make_offering(db, course=campus.course, capacity=1)
        await make_enrollment(db, user=await make_user(db), offering=offering)
        await make_enrollment(db, user=campus.student, offering=offering, status=EnrollmentStatus.DROPPED)
        r = await client.post(f"{API}/offerings/{offering.id}/enroll", headers=auth_headers(settings, campus.student))
        assert r.json()["status"] == "WAITLISTED"

    async def test_unknown_body_field_is_422(
        self, client: httpx.AsyncClient, settings: Settings, campus: Campus
    ) -> None:
        r = await client.post(
            f"{API}/offerings/{campus.offering.id}/enroll",
            json={"invite": "x"},
            headers=auth_headers(settings, campus.student),
        )
        assert r.status_code == 422

    async def test_anonymous_caller_gets_401(self, client: httpx.AsyncClient, campus: Campus) -> None:
        assert (await client.post(f"{API}/offerings/{campus.offering.id}/enroll")).status_code == 401


class TestStaffEnrolment:
    async def test_platform_admin_enrols_anyone_by_email_bypassing_invite_window_and_prerequisites(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        offering = await make_offering(
            db,
            course=campus.course,
            visibility=Visibility.INVITE_ONLY,
            invite_code="zzz",
            enrollment_end=NOW - timedelta(days=1),
        )
        prereq = await make_course(db, university=campus.university)
        db.add(CoursePrerequisite(course_id=campus.course.id, prerequisite_course_id=prereq.id))
        user = await make_stranger(db)
        r = await client.post(
            f"{API}/offerings/{offering.id}/enrollments",
            json={"email": user.email.upper()},
            headers=auth_headers(settings, await make_platform_admin(db)),
        )
        assert r.status_code == 201, r.text
        assert (r.json()["user_id"], r.json()["status"]) == (user.id, "ACTIVE")
        assert await _roles(db, user.id, campus.university.id) == {UserRole.STUDENT}

    async def test_staff_may_create_a_pending_enrolment(
        self, client: httpx.AsyncClient, settings: Settings, campus: Campus
    ) -> None:
        r = await client.post(
            f"{API}/offerings/{campus.offering.id}/enrollments",
            json={"user_id": campus.student.id, "status": "PENDING"},
            headers=auth_headers(settings, campus.admin),
        )
        assert r.json()["status"] == "PENDING"

    async def test_staff_enrolment_respects_capacity(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        offering = await make_offering(db, course=campus.course, capacity=0)
        r = await client.post(
            f"{API}/offerings/{offering.id}/enrollments",
            json={"user_id": campus.student.id},
            headers=auth_headers(settings, campus.admin),
        )
        assert r.json()["status"] == "WAITLISTED"

    async def test_enrolling_someone_already_enrolled_is_409(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        await make_enrollment(db, user=campus.student, offering=campus.offering)
        r = await client.post(
            f"{API}/offerings/{campus.offering.id}/enrollments",
            json={"user_id": campus.student.id},
            headers=auth_headers(settings, campus.admin),
        )
        assert r.status_code == 409

    async def test_instructor_enrols_a_member_by_id(
        self, client: httpx.AsyncClient, settings: Settings, campus: Campus
    ) -> None:
        r = await client.post(
            f"{API}/offerings/{campus.offering.id}/enrollments",
            json={"user_id": campus.ta.id},
            headers=auth_headers(settings, campus.instructor),
        )
        assert r.status_code == 201, r.text
        assert (r.json()["user_id"], r.json()["status"]) == (campus.ta.id, "ACTIVE")

    async def test_unknown_email_is_404_for_a_platform_admin(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        r = await client.post(
            f"{API}/offerings/{campus.offering.id}/enrollments",
            json={"email": "nobody@nowhere.example"},
            headers=auth_headers(settings, await make_platform_admin(db)),
        )
        assert r.status_code == 404
        assert r.json()["error"]["code"] == "user_not_found"

    @pytest.mark.parametrize(
        "body",
        [{}, {"user_id": 1, "email": "a@b.example"}, {"user_id": 1, "status": "COMPLETED"}, {"email": "not-an-email"}],
    )
    async def test_invalid_body_is_422(
        self, client: httpx.AsyncClient, settings: Settings, campus: Campus, body: dict[str, object]
    ) -> None:
        r = await client.post(
            f"{API}/offerings/{campus.offering.id}/enrollments", json=body, headers=auth_headers(settings, campus.admin)
        )
        assert r.status_code == 422

    async def test_ta_gets_403(self, client: httpx.AsyncClient, settings: Settings, campus: Campus) -> None:
        r = await client.post(
            f"{API}/offerings/{campus.offering.id}/enrollments",
            json={"user_id": campus.student.id},
            headers=auth_headers(settings, campus.ta),
        )
        assert r.status_code == 403

    async def test_admin_of_another_university_gets_404(
        self, client: httpx.AsyncClient, settings: Settings, campus: Campus
    ) -> None:
        r = await client.post(
            f"{API}/offerings/{campus.offering.id}/enrollments",
            json={"user_id": campus.outsider.id},
            headers=auth_headers(settings, campus.outsider_admin),
        )
        assert r.status_code == 404

    async def test_anonymous_caller_gets_401(self, client: httpx.AsyncClient, campus: Campus) -> None:
        r = await client.post(f"{API}/offerings/{campus.offering.id}/enrollments", json={"user_id": 1})
        assert r.status_code == 401
