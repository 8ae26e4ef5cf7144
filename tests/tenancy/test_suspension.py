"""Suspension: a university admin suspends a member there; every role and enrolment in that university stops
working (content, progress, the tutor, staff routes), the member keeps full use of other universities, and lifting
the suspension restores everything."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.courses import make_course, make_enrollment, make_offering
from tests.fixtures.factories import grant_role, make_member, make_user
from tests.fixtures.membership import Caller, Tenant, make_tenant
from tests.fixtures.tenancy import make_platform_admin
from twosigma.config import Settings
from twosigma.enums import UserRole
from twosigma.users.models import User


@dataclass
class Pair:
    a: Tenant
    b: Tenant
    student: User  # STUDENT in both, ACTIVE in both offerings
    instructor: User  # INSTRUCTOR in both


@pytest.fixture
async def pair(db: AsyncSession) -> Pair:
    a, b = await make_tenant(db), await make_tenant(db)
    student = await make_member(db, a.university, UserRole.STUDENT)
    await grant_role(db, student, b.university, UserRole.STUDENT)
    await make_enrollment(db, user=student, offering=a.offering)
    await make_enrollment(db, user=student, offering=b.offering)
    instructor = await make_member(db, a.university, UserRole.INSTRUCTOR)
    await grant_role(db, instructor, b.university, UserRole.INSTRUCTOR)
    return Pair(a, b, student, instructor)


def _suspension(t: Tenant, user: User) -> str:
    return f"/universities/{t.university.id}/members/{user.id}/suspension"


async def _suspend(client: httpx.AsyncClient, settings: Settings, t: Tenant, user: User) -> None:
    response = await Caller(client, settings, t.admin).post(_suspension(t, user), {"reason": "Under review"})
    assert response.status_code == 201, response.text


class TestASuspendedStudent:
    async def test_loses_as_content_progress_and_tutor_but_keeps_bs(
        self, client: httpx.AsyncClient, settings: Settings, pair: Pair
    ) -> None:
        a, b = pair.a, pair.b
        await _suspend(client, settings, a, pair.student)
        student = Caller(client, settings, pair.student)
        for t, expected in ((a, 403), (b, 200)):
            assert (await student.get(f"/content-items/{t.item.id}")).status_code == expected
            assert (await student.get(f"/courses/{t.course.id}/tree")).status_code == expected
            assert (await student.get(f"/offerings/{t.offering.id}/progress/me")).status_code == expected
            write = await student.put(
                f"/offerings/{t.offering.id}/progress/content-items/{t.item.id}", {"progress_percent": 50}
            )
            assert write.status_code == expected, write.text
        refused = await student.get(f"/content-items/{a.item.id}")
        assert refused.json()["error"]["code"] == "membership_suspended"
        assert (await student.post("/chat/sessions", {"content_item_id": a.item.id})).status_code == 404
        assert (await student.post("/chat/sessions", {"content_item_id": b.item.id})).status_code == 201

    async def test_a_chat_opened_before_the_suspension_cannot_go_on(
        self, client: httpx.AsyncClient, settings: Settings, pair: Pair
    ) -> None:
        student = Caller(client, settings, pair.student)
        opened = await student.post("/chat/sessions", {"content_item_id": pair.a.item.id})
        assert opened.status_code == 201, opened.text
        await _suspend(client, settings, pair.a, pair.student)
        refused = await student.post(f"/chat/sessions/{opened.json()['id']}/messages", {"content": "Hello?"})
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["code"] == "content_access_lost"

    async def test_an_active_enrolment_only_in_the_suspending_university_opens_no_chat_without_content(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        a = await make_tenant(db)
        only_a = await make_member(db, a.university, UserRole.STUDENT)
        await make_enrollment(db, user=only_a, offering=a.offering)
        student = Caller(client, settings, only_a)
        assert (await student.post("/chat/sessions", {})).status_code == 201
        await _suspend(client, settings, a, only_a)
        refused = await student.post("/chat/sessions", {})
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["code"] == "tutor_enrollment_required"

    async def test_cannot_enrol_again_or_change_an_enrolment_there(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, pair: Pair
    ) -> None:
        a = pair.a
        other = await make_offering(db, course=a.course)
        await _suspend(client, settings, a, pair.student)
        student = Caller(client, settings, pair.student)
        enrol = await student.post(f"/offerings/{other.id}/enroll")
        assert (enrol.status_code, enrol.json()["error"]["code"]) == (403, "membership_suspended")
        mine = (await student.get("/users/me/enrollments")).json()["items"]
        in_a = next(e for e in mine if e["course_offering_id"] == a.offering.id)
        assert (await student.patch(f"/enrollments/{in_a['id']}", {"status": "DROPPED"})).status_code == 403

    async def test_sees_the_suspension_in_users_me(
        self, client: httpx.AsyncClient, settings: Settings, pair: Pair
    ) -> None:
        await _suspend(client, settings, pair.a, pair.student)
        me = (await Caller(client, settings, pair.student).get("/users/me")).json()
        assert me["suspended_university_ids"] == [pair.a.university.id]
        assert {r["university_id"] for r in me["roles"]} == {pair.b.university.id}
        assert me["is_active"] is True

    async def test_cannot_accept_an_invitation_there(
        self, client: httpx.AsyncClient, settings: Settings, pair: Pair
    ) -> None:
        a = pair.a
        invited = await Caller(client, settings, a.admin).post(
            f"/universities/{a.university.id}/roles", {"email": pair.student.email, "role": "TA"}
        )
        await _suspend(client, settings, a, pair.student)
        response = await Caller(client, settings, pair.student).post(f"/invitations/{invited.json()['id']}/accept")
        assert (response.status_code, response.json()["error"]["code"]) == (403, "membership_suspended")

    async def test_lifting_the_suspension_restores_everything(
        self, client: httpx.AsyncClient, settings: Settings, pair: Pair
    ) -> None:
        a = pair.a
        await _suspend(client, settings, a, pair.student)
        lifted = await Caller(client, settings, a.admin).delete(_suspension(a, pair.student))
        assert lifted.status_code == 204
        student = Caller(client, settings, pair.student)
        assert (await student.get(f"/content-items/{a.item.id}")).status_code == 200
        write = await student.put(
            f"/offerings/{a.offering.id}/progress/content-items/{a.item.id}", {"progress_percent": 10}
        )
        assert write.status_code == 200
        assert (await student.get("/users/me")).json()["suspended_university_ids"] == []


class TestSuspendedStaff:
    async def test_a_suspended_instructor_loses_as_staff_routes_but_keeps_bs(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, pair: Pair
    ) -> None:
        a, b = pair.a, pair.b
        hidden = await make_course(db, university=a.university, is_published=False)
        await _suspend(client, settings, a, pair.instructor)
        instructor = Caller(client, settings, pair.instructor)
        roster = await instructor.get(f"/offerings/{a.offering.id}/enrollments")
        assert (roster.status_code, roster.json()["error"]["code"]) == (403, "membership_suspended")
        assert (await instructor.get(f"/offerings/{b.offering.id}/enrollments")).status_code == 200
        assert (await instructor.patch(f"/courses/{a.course.id}", {"title": "Mine now"})).status_code == 403
        assert (await instructor.patch(f"/courses/{b.course.id}", {"title": "Still mine"})).status_code == 200
        assert (await instructor.get(f"/courses/{hidden.id}")).status_code == 404
        assert (await instructor.get(f"/offerings/{a.offering.id}/progress")).status_code == 403
        catalog = (await instructor.get("/courses", params={"limit": 100})).json()
        assert hidden.id not in {c["id"] for c in catalog["items"]}

    async def test_a_suspended_university_admin_loses_administration_and_analytics(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, pair: Pair
    ) -> None:
        a = pair.a
        second_admin = await make_member(db, a.university, UserRole.UNIVERSITY_ADMIN)
        await _suspend(client, settings, a, second_admin)
        suspended = Caller(client, settings, second_admin)
        for path in (
            f"/universities/{a.university.id}/members",
            f"/universities/{a.university.id}/audit",
            f"/universities/{a.university.id}/invitations",
            f"/admin/analytics/overview?university_id={a.university.id}",
        ):
            response = await suspended.get(path)
            assert (response.status_code, response.json()["error"]["code"]) == (403, "membership_suspended"), path
        lift = await suspended.delete(_suspension(a, second_admin))
        assert lift.status_code == 403


class TestWhoMaySuspend:
    async def test_department_admins_and_instructors_may_not(
        self, client: httpx.AsyncClient, settings: Settings, pair: Pair
    ) -> None:
        a = pair.a
        for user in (a.department_admin, a.instructor):
            assert (await Caller(client, settings, user).post(_suspension(a, a.student))).status_code == 403

    async def test_another_universitys_admin_gets_404(
        self, client: httpx.AsyncClient, settings: Settings, pair: Pair
    ) -> None:
        response = await Caller(client, settings, pair.b.admin).post(_suspension(pair.a, pair.a.student))
        assert response.status_code == 404

    async def test_a_non_member_cannot_be_suspended_and_looks_like_nobody(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, pair: Pair
    ) -> None:
        a, b = pair.a, pair.b
        admin = Caller(client, settings, a.admin)
        of_b = await admin.post(_suspension(a, b.student))
        nobody = await admin.post(f"/universities/{a.university.id}/members/2000000000/suspension")
        assert (of_b.status_code, of_b.json()) == (nobody.status_code, nobody.json())
        assert of_b.status_code == 404
        loner = await make_user(db)
        assert (await admin.post(_suspension(a, loner))).status_code == 404

    async def test_nobody_suspends_themselves_nor_a_platform_admin(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, pair: Pair
    ) -> None:
        a = pair.a
        admin = Caller(client, settings, a.admin)
        own = await admin.post(_suspension(a, a.admin))
        assert (own.status_code, own.json()["error"]["code"]) == (409, "cannot_suspend_self")
        platform_admin = await make_member(db, a.university, UserRole.PLATFORM_ADMIN)
        response = await admin.post(_suspension(a, platform_admin))
        assert (response.status_code, response.json()["error"]["code"]) == (403, "cannot_suspend_platform_admin")

    async def test_a_platform_admin_may_suspend_and_lift(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, pair: Pair
    ) -> None:
        platform = Caller(client, settings, await make_platform_admin(db))
        assert (await platform.post(_suspension(pair.a, pair.student))).status_code == 201
        assert (await platform.delete(_suspension(pair.a, pair.student))).status_code == 204

    async def test_twice_is_409_and_lifting_what_is_not_there_is_404(
        self, client: httpx.AsyncClient, settings: Settings, pair: Pair
    ) -> None:
        a = pair.a
        admin = Caller(client, settings, a.admin)
        assert (await admin.delete(_suspension(a, a.student))).json()["error"]["code"] == "suspension_not_found"
        await _suspend(client, settings, a, a.student)
        again = await admin.post(_suspension(a, a.student))
        assert (again.status_code, again.json()["error"]["code"]) == (409, "already_suspended")

    async def test_a_reason_longer_than_500_characters_is_422(
        self, client: httpx.AsyncClient, settings: Settings, pair: Pair
    ) -> None:
        response = await Caller(client, settings, pair.a.admin).post(
            _suspension(pair.a, pair.a.student), {"reason": "x" * 501}
        )
        assert response.status_code == 422

    async def test_without_a_token_is_401(self, client: httpx.AsyncClient, pair: Pair) -> None:
        assert (await client.post(f"/api/v1{_suspension(pair.a, pair.a.student)}")).status_code == 401


class TestTheMemberListAndTheLog:
    async def test_members_show_their_suspension_and_can_be_filtered_by_it(
        self, client: httpx.AsyncClient, settings: Settings, pair: Pair
    ) -> None:
        a = pair.a
        await _suspend(client, settings, a, pair.student)
        admin = Caller(client, settings, a.admin)
        members = (await admin.get(f"/universities/{a.university.id}/members", params={"limit": 100})).json()
        row = next(m for m in members["items"] if m["id"] == pair.student.id)
        assert row["suspended"] is True
        assert row["suspension"]["reason"] == "Under review"
        assert row["suspension"]["suspended_by_id"] == a.admin.id
        assert row["roles"] == ["STUDENT"]  # the grants stay, unused, for when it is lifted
        other = next(m for m in members["items"] if m["id"] == a.ta.id)
        assert (other["suspended"], other["suspension"]) == (False, None)
        only = (await admin.get(f"/universities/{a.university.id}/members", params={"suspended": True})).json()
        assert [m["id"] for m in only["items"]] == [pair.student.id]

    async def test_a_department_admin_sees_that_a_member_is_suspended_but_not_why_nor_by_whom(
        self, client: httpx.AsyncClient, settings: Settings, pair: Pair
    ) -> None:
        a = pair.a
        await _suspend(client, settings, a, pair.student)
        response = await Caller(client, settings, a.department_admin).get(
            f"/universities/{a.university.id}/members", params={"limit": 100}
        )
        row = next(m for m in response.json()["items"] if m["id"] == pair.student.id)
        assert (row["suspended"], row["suspension"]) == (True, None)
        assert "Under review" not in response.text

    async def test_a_department_admin_may_filter_on_what_they_see(
        self, client: httpx.AsyncClient, settings: Settings, pair: Pair
    ) -> None:
        a = pair.a
        await _suspend(client, settings, a, pair.student)
        department_admin = Caller(client, settings, a.department_admin)
        url = f"/universities/{a.university.id}/members"
        only = (await department_admin.get(url, params={"suspended": True})).json()["items"]
        assert [(m["id"], m["suspended"], m["suspension"]) for m in only] == [(pair.student.id, True, None)]
        rest = (await department_admin.get(url, params={"suspended": False, "limit": 100})).json()["items"]
        assert pair.student.id not in {m["id"] for m in rest}

    async def test_a_member_by_enrolment_only_is_listed_with_no_roles(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, pair: Pair
    ) -> None:
        a = pair.a
        enrolled = await make_user(db)
        await make_enrollment(db, user=enrolled, offering=a.offering)
        members = (
            await Caller(client, settings, a.admin).get(
                f"/universities/{a.university.id}/members", params={"q": enrolled.email}
            )
        ).json()
        assert [(m["id"], m["roles"], m["grants"]) for m in members["items"]] == [(enrolled.id, [], [])]

    async def test_suspending_and_lifting_are_audited(
        self, client: httpx.AsyncClient, settings: Settings, pair: Pair
    ) -> None:
        a = pair.a
        await _suspend(client, settings, a, pair.student)
        admin = Caller(client, settings, a.admin)
        await admin.delete(_suspension(a, pair.student))
        log = (await admin.get(f"/universities/{a.university.id}/audit")).json()["items"]
        assert [(e["action"], e["target_user_id"]) for e in log[:2]] == [
            ("member.reinstated", pair.student.id),
            ("member.suspended", pair.student.id),
        ]
        assert log[1]["details"] == {"reason": "Under review"}
