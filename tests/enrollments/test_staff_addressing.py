"""Issue 17, the instructor's variant: enrol an arbitrary user id, read their name and email on the roster.

A staff enrolment by id reaches members of the offering's university only; by email it is an invitation.
"""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.membership import Caller, Tenant, without_ids_and_times
from twosigma.config import Settings
from twosigma.enrollments.models import CourseEnrollment


def _enrol(t: Tenant) -> str:
    return f"/offerings/{t.offering.id}/enrollments"


class TestStaffEnrolmentByIdStaysInsideTheUniversity:
    async def test_instructor_enrolling_a_user_of_b_by_id_gets_404_and_the_roster_shows_nothing(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, a: Tenant, b: Tenant
    ) -> None:
        instructor = Caller(client, settings, a.instructor)
        response = await instructor.post(_enrol(a), {"user_id": b.student.id})
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "user_not_found"
        roster = await instructor.get(_enrol(a), params={"limit": 100})
        assert b.student.email not in roster.text
        assert b.student.full_name not in roster.text
        enrolled = await db.scalar(
            select(CourseEnrollment.id).where(
                CourseEnrollment.user_id == b.student.id, CourseEnrollment.course_offering_id == a.offering.id
            )
        )
        assert enrolled is None

    async def test_a_user_of_b_and_an_id_nobody_holds_get_the_same_answer(
        self, client: httpx.AsyncClient, settings: Settings, a: Tenant, b: Tenant
    ) -> None:
        instructor = Caller(client, settings, a.instructor)
        existing = await instructor.post(_enrol(a), {"user_id": b.student.id})
        missing = await instructor.post(_enrol(a), {"user_id": 2_000_000_000})
        assert (existing.status_code, existing.json()) == (missing.status_code, missing.json())

    async def test_staff_enrolment_is_audited(self, client: httpx.AsyncClient, settings: Settings, a: Tenant) -> None:
        enrolment = (await Caller(client, settings, a.instructor).post(_enrol(a), {"user_id": a.ta.id})).json()
        log = (await Caller(client, settings, a.admin).get(f"/universities/{a.university.id}/audit")).json()
        event = log["items"][0]
        assert (event["action"], event["actor_id"], event["target_user_id"]) == (
            "enrollment.created",
            a.instructor.id,
            a.ta.id,
        )
        assert (event["resource_type"], event["resource_id"]) == ("enrollment", enrolment["id"])
        assert event["details"]["status"] == "ACTIVE"

    async def test_deleting_the_enrolment_does_not_erase_the_trail(
        self, client: httpx.AsyncClient, settings: Settings, a: Tenant
    ) -> None:
        instructor = Caller(client, settings, a.instructor)
        enrolment = (await instructor.post(_enrol(a), {"user_id": a.ta.id})).json()
        assert (await instructor.delete(f"/enrollments/{enrolment['id']}")).status_code == 204
        log = (await Caller(client, settings, a.admin).get(f"/universities/{a.university.id}/audit")).json()
        assert [e["action"] for e in log["items"][:2]] == ["enrollment.deleted", "enrollment.created"]


class TestStaffEnrolmentByEmailIsAnInvitation:
    async def test_an_existing_and_a_nonexistent_email_get_the_same_answer(
        self, client: httpx.AsyncClient, settings: Settings, a: Tenant, b: Tenant
    ) -> None:
        instructor = Caller(client, settings, a.instructor)
        existing = await instructor.post(_enrol(a), {"email": b.student.email, "status": "PENDING"})
        missing = await instructor.post(_enrol(a), {"email": "nobody-at-all@nowhere.example", "status": "PENDING"})
        assert existing.status_code == missing.status_code == 202
        assert without_ids_and_times(existing.json()) == without_ids_and_times(missing.json())
        body = existing.json()
        assert (body["kind"], body["course_offering_id"], body["enrollment_status"]) == (
            "ENROLLMENT",
            a.offering.id,
            "PENDING",
        )
        assert body["user_id"] is None
        assert b.student.full_name not in existing.text

    async def test_nobody_is_enrolled_until_the_invitation_is_accepted(
        self, client: httpx.AsyncClient, settings: Settings, a: Tenant, b: Tenant
    ) -> None:
        instructor = Caller(client, settings, a.instructor)
        await instructor.post(_enrol(a), {"email": b.student.email})
        roster = await instructor.get(_enrol(a), params={"limit": 100})
        assert b.student.email not in roster.text

    async def test_a_ta_may_not_invite(self, client: httpx.AsyncClient, settings: Settings, a: Tenant) -> None:
        response = await Caller(client, settings, a.ta).post(_enrol(a), {"email": "someone@example.edu"})
        assert response.status_code == 403
