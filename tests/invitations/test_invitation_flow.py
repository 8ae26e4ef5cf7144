"""Invitations end to end: invite by email → the invitee sees it → accept (or decline) → the role or enrolment works."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.courses import make_offering
from tests.fixtures.factories import make_user
from tests.fixtures.membership import Caller, Tenant
from twosigma.config import Settings
from twosigma.kit.clock import get_now


async def _invite_to_role(caller: Caller, t: Tenant, email: str, role: str = "TA", **extra: Any) -> dict[str, Any]:
    response = await caller.post(f"/universities/{t.university.id}/roles", {"email": email, "role": role, **extra})
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    return body


async def _invite_to_offering(caller: Caller, offering_id: int, email: str, **extra: Any) -> dict[str, Any]:
    response = await caller.post(f"/offerings/{offering_id}/enrollments", {"email": email, **extra})
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    return body


class TestARoleInvitation:
    async def test_invitee_sees_accepts_and_the_role_works(
        self, client: httpx.AsyncClient, settings: Settings, a: Tenant, b: Tenant
    ) -> None:
        admin, invitee = Caller(client, settings, a.admin), Caller(client, settings, b.student)
        assert (await invitee.get(f"/offerings/{a.offering.id}/enrollments")).status_code == 404
        invitation = await _invite_to_role(admin, a, b.student.email.upper())

        mine = (await invitee.get("/users/me/invitations")).json()
        assert mine["total"] == 1
        seen = mine["items"][0]
        assert (seen["id"], seen["status"], seen["role"], seen["kind"]) == (invitation["id"], "PENDING", "TA", "ROLE")
        assert seen["university"]["id"] == a.university.id
        assert seen["invited_by_name"] == a.admin.full_name

        accepted = await invitee.post(f"/invitations/{invitation['id']}/accept")
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["invitation"]["status"] == "ACCEPTED"
        assert accepted.json()["grant_id"] is not None

        roster = await invitee.get(f"/offerings/{a.offering.id}/enrollments")
        assert roster.status_code == 200  # a TA of A sees A's rosters
        me = (await invitee.get("/users/me")).json()
        assert {"university_id": a.university.id, "role": "TA", "department_id": None} in me["roles"]

    async def test_the_inviter_sees_the_member_once_accepted_and_everything_is_audited(
        self, client: httpx.AsyncClient, settings: Settings, a: Tenant, b: Tenant
    ) -> None:
        admin, invitee = Caller(client, settings, a.admin), Caller(client, settings, b.student)
        invitation = await _invite_to_role(admin, a, b.student.email)
        await invitee.post(f"/invitations/{invitation['id']}/accept")
        listed = (await admin.get(f"/universities/{a.university.id}/invitations")).json()["items"][0]
        assert (listed["status"], listed["user_id"]) == ("ACCEPTED", b.student.id)
        log = (await admin.get(f"/universities/{a.university.id}/audit")).json()["items"]
        assert [e["action"] for e in log] == ["invitation.accepted", "role.granted", "invitation.created"]
        accepted, granted, created = log
        assert (created["actor_id"], created["target_user_id"], created["target_email"]) == (
            a.admin.id,
            None,
            b.student.email,
        )
        assert granted["details"]["invitation_id"] == invitation["id"]
        assert (accepted["actor_id"], accepted["target_user_id"]) == (b.student.id, b.student.id)

    async def test_accepting_a_role_already_held_is_409(
        self, client: httpx.AsyncClient, settings: Settings, a: Tenant
    ) -> None:
        invitation = await _invite_to_role(Caller(client, settings, a.admin), a, a.ta.email)
        response = await Caller(client, settings, a.ta).post(f"/invitations/{invitation['id']}/accept")
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "role_exists"

    async def test_an_inviter_who_lost_the_right_makes_the_invitation_useless(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, a: Tenant, b: Tenant
    ) -> None:
        department_admin = Caller(client, settings, a.department_admin)
        invitation = await _invite_to_role(department_admin, a, b.student.email, department_id=a.department.id)
        grants = (await Caller(client, settings, a.admin).get(f"/universities/{a.university.id}/roles")).json()
        grant = next(g for g in grants["items"] if g["user_id"] == a.department_admin.id)
        await Caller(client, settings, a.admin).delete(f"/universities/{a.university.id}/roles/{grant['id']}")
        response = await Caller(client, settings, b.student).post(f"/invitations/{invitation['id']}/accept")
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "invitation_no_longer_valid"


class TestAnEnrolmentInvitation:
    async def test_accepting_enrols_the_invitee_who_then_reads_the_content(
        self, client: httpx.AsyncClient, settings: Settings, a: Tenant, b: Tenant
    ) -> None:
        invitee = Caller(client, settings, b.student)
        assert (await invitee.get(f"/content-items/{a.item.id}")).status_code == 404
        invitation = await _invite_to_offering(Caller(client, settings, a.instructor), a.offering.id, b.student.email)
        accepted = (await invitee.post(f"/invitations/{invitation['id']}/accept")).json()
        assert accepted["enrollment_status"] == "ACTIVE"
        assert (await invitee.get(f"/content-items/{a.item.id}")).status_code == 200
        enrolments = (await invitee.get("/users/me/enrollments")).json()["items"]
        assert accepted["enrollment_id"] in {e["id"] for e in enrolments}

    async def test_a_full_offering_puts_the_invitee_on_the_waitlist(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, a: Tenant, b: Tenant
    ) -> None:
        full = await make_offering(db, course=a.course, capacity=0)
        invitation = await _invite_to_offering(Caller(client, settings, a.instructor), full.id, b.student.email)
        response = await Caller(client, settings, b.student).post(f"/invitations/{invitation['id']}/accept")
        assert response.json()["enrollment_status"] == "WAITLISTED"


class TestDeclineExpiryAndOthers:
    async def test_a_declined_invitation_grants_nothing_and_cannot_be_accepted(
        self, client: httpx.AsyncClient, settings: Settings, a: Tenant, b: Tenant
    ) -> None:
        invitee = Caller(client, settings, b.student)
        invitation = await _invite_to_role(Caller(client, settings, a.admin), a, b.student.email)
        declined = await invitee.post(f"/invitations/{invitation['id']}/decline")
        assert (declined.status_code, declined.json()["status"]) == (200, "DECLINED")
        again = await invitee.post(f"/invitations/{invitation['id']}/accept")
        assert (again.status_code, again.json()["error"]["code"]) == (409, "invitation_not_pending")
        me = (await invitee.get("/users/me")).json()
        assert all(r["university_id"] != a.university.id for r in me["roles"])
        listed = (await Caller(client, settings, a.admin).get(f"/universities/{a.university.id}/invitations")).json()[
            "items"
        ][0]
        assert (listed["status"], listed["user_id"]) == ("DECLINED", None)

    async def test_the_audit_log_names_no_account_for_a_decline(
        self, client: httpx.AsyncClient, settings: Settings, a: Tenant, b: Tenant
    ) -> None:
        admin = Caller(client, settings, a.admin)
        invitation = await _invite_to_role(admin, a, b.student.email)
        await Caller(client, settings, b.student).post(f"/invitations/{invitation['id']}/decline")
        log = await admin.get(f"/universities/{a.university.id}/audit", params={"action": "invitation.declined"})
        [declined] = log.json()["items"]
        assert (declined["actor_id"], declined["actor_email"]) == (None, None)
        assert (declined["target_user_id"], declined["target_email"]) == (None, b.student.email)
        assert (declined["resource_type"], declined["resource_id"]) == ("invitation", invitation["id"])
        assert set(declined["details"]) == {"kind", "role", "department_id"}  # what was offered, nobody's id

    async def test_after_fourteen_days_the_invitation_has_expired(
        self, client: httpx.AsyncClient, app: FastAPI, settings: Settings, a: Tenant, b: Tenant
    ) -> None:
        invitee = Caller(client, settings, b.student)
        invitation = await _invite_to_role(Caller(client, settings, a.admin), a, b.student.email)
        issued = datetime.fromisoformat(invitation["expires_at"]) - datetime.fromisoformat(invitation["created_at"])
        assert timedelta(days=14) - timedelta(minutes=1) < issued <= timedelta(days=14) + timedelta(minutes=1)
        app.dependency_overrides[get_now] = lambda: datetime.now(UTC) + timedelta(days=15)
        try:
            mine = (await invitee.get("/users/me/invitations")).json()["items"]
            assert [i["status"] for i in mine] == ["EXPIRED"]
            response = await invitee.post(f"/invitations/{invitation['id']}/accept")
            assert (response.status_code, response.json()["error"]["code"]) == (409, "invitation_expired")
            declined = await invitee.post(f"/invitations/{invitation['id']}/decline")
            assert declined.status_code == 409
        finally:
            app.dependency_overrides.pop(get_now, None)

    async def test_someone_else_cannot_accept_or_decline_or_see_it(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, a: Tenant, b: Tenant
    ) -> None:
        invitation = await _invite_to_role(Caller(client, settings, a.admin), a, b.student.email)
        for user in (b.admin, a.admin, await make_user(db)):
            other = Caller(client, settings, user)
            for answer in ("accept", "decline"):
                response = await other.post(f"/invitations/{invitation['id']}/{answer}")
                assert response.status_code == 404, (user.email, answer)
            assert (await other.get("/users/me/invitations")).json()["total"] == 0
        mine = (await Caller(client, settings, b.student).get("/users/me/invitations")).json()
        assert mine["items"][0]["status"] == "PENDING"

    async def test_a_revoked_invitation_cannot_be_accepted(
        self, client: httpx.AsyncClient, settings: Settings, a: Tenant, b: Tenant
    ) -> None:
        admin = Caller(client, settings, a.admin)
        invitation = await _invite_to_role(admin, a, b.student.email)
        assert (await admin.delete(f"/invitations/{invitation['id']}")).status_code == 204
        response = await Caller(client, settings, b.student).post(f"/invitations/{invitation['id']}/accept")
        assert response.status_code == 409
        assert (await admin.delete(f"/invitations/{invitation['id']}")).status_code == 409
        log = (
            await admin.get(f"/universities/{a.university.id}/audit", params={"action": "invitation.revoked"})
        ).json()
        assert [e["resource_id"] for e in log["items"]] == [invitation["id"]]

    async def test_inviting_the_same_address_again_replaces_the_open_invitation(
        self, client: httpx.AsyncClient, settings: Settings, a: Tenant, b: Tenant
    ) -> None:
        admin = Caller(client, settings, a.admin)
        first = await _invite_to_role(admin, a, b.student.email)
        second = await _invite_to_role(admin, a, b.student.email)
        listed = (await admin.get(f"/universities/{a.university.id}/invitations")).json()["items"]
        assert [(i["id"], i["status"]) for i in listed] == [(second["id"], "PENDING"), (first["id"], "REVOKED")]
