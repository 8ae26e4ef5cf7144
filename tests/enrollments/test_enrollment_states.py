"""The enrolment state machine: the table itself, PATCH /enrollments/{id}, waitlist promotion, deletion."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.courses import Campus, make_campus, make_enrollment, make_offering
from tests.fixtures.factories import auth_headers, make_user
from twosigma.config import Settings
from twosigma.courses.models import CourseOffering
from twosigma.enrollments.models import CourseEnrollment
from twosigma.enrollments.service import complete_enrollment
from twosigma.enrollments.state import TRANSITIONS, Actor, InvalidTransition, check_transition
from twosigma.enums import EnrollmentStatus as S
from twosigma.kit.errors import Forbidden

API = "/api/v1"
NOW = datetime.now(UTC)


@pytest.fixture
async def campus(db: AsyncSession) -> Campus:
    return await make_campus(db)


class TestTransitionTable:
    @pytest.mark.parametrize(("current", "target"), list(TRANSITIONS))
    def test_every_listed_transition_is_allowed_to_its_actors(self, current: S, target: S) -> None:
        for actor in (Actor.SELF, Actor.STAFF, Actor.SYSTEM):
            if actor in TRANSITIONS[(current, target)]:
                check_transition(current, target, actor)
            else:
                with pytest.raises(Forbidden):
                    check_transition(current, target, actor)

    @pytest.mark.parametrize(("current", "target"), [p for p in itertools.product(S, S) if p not in TRANSITIONS])
    def test_every_other_transition_is_invalid(self, current: S, target: S) -> None:
        with pytest.raises(InvalidTransition) as caught:
            check_transition(current, target, Actor.SELF | Actor.STAFF | Actor.SYSTEM)
        assert caught.value.details == {"from": current.value, "to": target.value}

    def test_the_table_is_the_documented_one(self) -> None:
        assert TRANSITIONS == {
            (S.PENDING, S.ACTIVE): Actor.STAFF,
            (S.ACTIVE, S.DROPPED): Actor.SELF | Actor.STAFF,
            (S.ACTIVE, S.COMPLETED): Actor.STAFF | Actor.SYSTEM,
            (S.DROPPED, S.ACTIVE): Actor.SELF | Actor.STAFF,
            (S.WAITLISTED, S.DROPPED): Actor.SELF | Actor.STAFF,
        }


async def _patch(client: httpx.AsyncClient, headers: dict[str, str], enrollment_id: int, status: str) -> httpx.Response:
    return await client.patch(f"{API}/enrollments/{enrollment_id}", json={"status": status}, headers=headers)


async def _status(db: AsyncSession, enrollment_id: int) -> S:
    stmt = select(CourseEnrollment.status).where(CourseEnrollment.id == enrollment_id)
    status = await db.scalar(stmt)
    assert status is not None
    return status


class TestPatchEnrollment:
    @pytest.mark.parametrize(
        ("current", "target", "who", "expected"),
        [
            (S.PENDING, S.ACTIVE, "instructor", 200),
            (S.PENDING, S.ACTIVE, "student", 403),
            (S.ACTIVE, S.DROPPED, "student", 200),
            (S.ACTIVE, S.DROPPED, "admin", 200),
            (S.ACTIVE, S.COMPLETED, "instructor", 200),
            (S.ACTIVE, S.COMPLETED, "student", 403),
            (S.ACTIVE, S.COMPLETED, "ta", 403),
            (S.DROPPED, S.ACTIVE, "student", 200),
            (S.DROPPED, S.ACTIVE, "instructor", 200),
            (S.WAITLISTED, S.DROPPED, "student", 200),
            (S.WAITLISTED, S.DROPPED, "instructor", 200),
            (S.COMPLETED, S.ACTIVE, "instructor", 409),
            (S.WAITLISTED, S.ACTIVE, "instructor", 409),
            (S.DROPPED, S.COMPLETED, "admin", 409),
            (S.ACTIVE, S.PENDING, "admin", 409),
            (S.ACTIVE, S.ACTIVE, "student", 409),
        ],
    )
    async def test_transition(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        campus: Campus,
        current: S,
        target: S,
        who: str,
        expected: int,
    ) -> None:
        enrollment = await make_enrollment(db, user=campus.student, offering=campus.offering, status=current)
        r = await _patch(client, auth_headers(settings, getattr(campus, who)), enrollment.id, target.value)
        assert r.status_code == expected, r.text
        if expected == 200:
            assert r.json()["status"] == target.value
            assert (r.json()["completed_at"] is not None) == (target is S.COMPLETED)
        elif expected == 409:
            assert r.json()["error"] == {
                "code": "invalid_transition",
                "message": r.json()["error"]["message"],
                "details": {"from": current.value, "to": target.value},
            }
        if expected != 200:
            assert await _status(db, enrollment.id) is current

    async def test_self_re_enrolment_after_the_window_is_409(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        offering = await make_offering(db, course=campus.course, enrollment_end=NOW - timedelta(days=1))
        enrollment = await make_enrollment(db, user=campus.student, offering=offering, status=S.DROPPED)
        r = await _patch(client, auth_headers(settings, campus.student), enrollment.id, "ACTIVE")
        assert r.status_code == 409
        assert r.json()["error"]["code"] == "enrollment_closed"

    async def test_staff_re_activate_after_the_window(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        offering = await make_offering(db, course=campus.course, enrollment_end=NOW - timedelta(days=1))
        enrollment = await make_enrollment(db, user=campus.student, offering=offering, status=S.DROPPED)
        r = await _patch(client, auth_headers(settings, campus.instructor), enrollment.id, "ACTIVE")
        assert r.json()["status"] == "ACTIVE"

    async def test_re_activating_into_a_full_offering_waitlists(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        offering = await make_offering(db, course=campus.course, capacity=1)
        await make_enrollment(db, user=await make_user(db), offering=offering)
        enrollment = await make_enrollment(db, user=campus.student, offering=offering, status=S.DROPPED)
        r = await _patch(client, auth_headers(settings, campus.student), enrollment.id, "ACTIVE")
        assert r.json()["status"] == "WAITLISTED"

    async def test_another_students_enrolment_is_404(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        enrollment = await make_enrollment(db, user=await make_user(db), offering=campus.offering)
        r = await _patch(client, auth_headers(settings, campus.student), enrollment.id, "DROPPED")
        assert r.status_code == 404

    async def test_admin_of_another_university_gets_404(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        enrollment = await make_enrollment(db, user=campus.student, offering=campus.offering)
        r = await _patch(client, auth_headers(settings, campus.outsider_admin), enrollment.id, "DROPPED")
        assert r.status_code == 404

    async def test_a_ta_may_read_but_not_drop_a_students_enrolment(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        enrollment = await make_enrollment(db, user=campus.student, offering=campus.offering)
        headers = auth_headers(settings, campus.ta)
        assert (await client.get(f"{API}/enrollments/{enrollment.id}", headers=headers)).status_code == 200
        assert (await _patch(client, headers, enrollment.id, "DROPPED")).status_code == 403

    async def test_unknown_status_is_422(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        enrollment = await make_enrollment(db, user=campus.student, offering=campus.offering)
        r = await _patch(client, auth_headers(settings, campus.student), enrollment.id, "GRADUATED")
        assert r.status_code == 422

    async def test_anonymous_caller_gets_401(self, client: httpx.AsyncClient, db: AsyncSession, campus: Campus) -> None:
        enrollment = await make_enrollment(db, user=campus.student, offering=campus.offering)
        r = await client.patch(f"{API}/enrollments/{enrollment.id}", json={"status": "DROPPED"})
        assert r.status_code == 401


async def _full_offering_with_waitlist(
    db: AsyncSession, campus: Campus
) -> tuple[CourseOffering, list[CourseEnrollment]]:
    """Capacity 2: the campus student and one more ACTIVE, then three WAITLISTED (oldest first in the list)."""
    offering = await make_offering(db, course=campus.course, capacity=2)
    await make_enrollment(db, user=campus.student, offering=offering, enrolled_at=NOW - timedelta(days=5))
    await make_enrollment(db, user=await make_user(db), offering=offering, enrolled_at=NOW - timedelta(days=5))
    waitlist = []
    # Created newest first, so id order and enrolled_at order disagree: promotion must follow enrolled_at.
    for hours in (1, 2, 3):
        waitlist.append(
            await make_enrollment(
                db,
                user=await make_user(db),
                offering=offering,
                status=S.WAITLISTED,
                enrolled_at=NOW - timedelta(hours=hours),
            )
        )
    waitlist.reverse()
    return offering, waitlist


class TestWaitlistPromotion:
    async def test_a_drop_promotes_the_oldest_waitlisted_only(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        offering, waitlist = await _full_offering_with_waitlist(db, campus)
        mine = (
            await db.scalars(
                select(CourseEnrollment).where(
                    CourseEnrollment.user_id == campus.student.id, CourseEnrollment.course_offering_id == offering.id
                )
            )
        ).one()
        r = await _patch(client, auth_headers(settings, campus.student), mine.id, "DROPPED")
        assert r.status_code == 200
        assert [await _status(db, e.id) for e in waitlist] == [S.ACTIVE, S.WAITLISTED, S.WAITLISTED]

    async def test_a_waitlisted_student_leaving_promotes_nobody(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        _, waitlist = await _full_offering_with_waitlist(db, campus)
        r = await _patch(client, auth_headers(settings, campus.admin), waitlist[0].id, "DROPPED")
        assert r.status_code == 200
        assert [await _status(db, e.id) for e in waitlist] == [S.DROPPED, S.WAITLISTED, S.WAITLISTED]

    async def test_deleting_an_active_enrolment_promotes_the_oldest(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        offering, waitlist = await _full_offering_with_waitlist(db, campus)
        mine = await db.scalar(
            select(CourseEnrollment.id).where(
                CourseEnrollment.user_id == campus.student.id, CourseEnrollment.course_offering_id == offering.id
            )
        )
        r = await client.delete(f"{API}/enrollments/{mine}", headers=auth_headers(settings, campus.instructor))
        assert r.status_code == 204
        assert [await _status(db, e.id) for e in waitlist] == [S.ACTIVE, S.WAITLISTED, S.WAITLISTED]

    async def test_completion_by_the_platform_frees_a_seat(self, db: AsyncSession, campus: Campus) -> None:
        offering, waitlist = await _full_offering_with_waitlist(db, campus)
        mine = await db.scalar(
            select(CourseEnrollment.id).where(
                CourseEnrollment.user_id == campus.student.id, CourseEnrollment.course_offering_id == offering.id
            )
        )
        assert mine is not None
        completed = await complete_enrollment(db, mine)
        assert completed is not None
        assert (completed.status, completed.completed_at is not None) == (S.COMPLETED, True)
        assert [await _status(db, e.id) for e in waitlist] == [S.ACTIVE, S.WAITLISTED, S.WAITLISTED]
        # Idempotent: a second call changes nothing.
        again = await complete_enrollment(db, mine)
        assert again is not None
        assert again.status is S.COMPLETED


class TestGetAndDeleteEnrollment:
    async def test_owner_reads_their_enrolment(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        enrollment = await make_enrollment(db, user=campus.student, offering=campus.offering)
        r = await client.get(f"{API}/enrollments/{enrollment.id}", headers=auth_headers(settings, campus.student))
        assert (r.status_code, r.json()["id"]) == (200, enrollment.id)

    async def test_student_cannot_delete_their_own_enrolment(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        enrollment = await make_enrollment(db, user=campus.student, offering=campus.offering)
        r = await client.delete(f"{API}/enrollments/{enrollment.id}", headers=auth_headers(settings, campus.student))
        assert r.status_code == 403

    async def test_admin_of_another_university_cannot_read_it(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        enrollment = await make_enrollment(db, user=campus.student, offering=campus.offering)
        r = await client.get(
            f"{API}/enrollments/{enrollment.id}", headers=auth_headers(settings, campus.outsider_admin)
        )
        assert r.status_code == 404

    async def test_non_numeric_id_is_422(self, client: httpx.AsyncClient, settings: Settings, campus: Campus) -> None:
        r = await client.delete(f"{API}/enrollments/x", headers=auth_headers(settings, campus.admin))
        assert r.status_code == 422

    async def test_anonymous_caller_gets_401(self, client: httpx.AsyncClient, campus: Campus) -> None:
        assert (await client.get(f"{API}/enrollments/1")).status_code == 401
