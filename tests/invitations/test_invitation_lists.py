"""Who sees and revokes a university's invitations: what they could issue now, plus what they sent."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.courses import make_course, make_offering
from tests.fixtures.factories import grant_role, make_member, make_user
from tests.fixtures.membership import Caller, Tenant, make_tenant
from twosigma.config import Settings
from twosigma.enums import UserRole


def _list(t: Tenant) -> str:
    return f"/universities/{t.university.id}/invitations"


def _roles(t: Tenant) -> str:
    return f"/universities/{t.university.id}/roles"


async def _seen(caller: Caller, t: Tenant, **params: Any) -> set[int]:
    response = await caller.get(_list(t), params={"limit": 100, **params})
    assert response.status_code == 200, response.text
    return {i["id"] for i in response.json()["items"]}


async def _grant(admin: Caller, t: Tenant, user_id: int, role: str, department_id: int | None) -> None:
    body = {"user_id": user_id, "role": role, "department_id": department_id}
    response = await admin.post(_roles(t), body)
    assert response.status_code == 201, response.text


async def _revoke(admin: Caller, t: Tenant, user_id: int, role: str) -> None:
    grants = (await admin.get(_roles(t), params={"role": role, "limit": 100})).json()["items"]
    grant = next(g for g in grants if g["user_id"] == user_id)
    assert (await admin.delete(f"{_roles(t)}/{grant['id']}")).status_code == 204


async def _invite(caller: Caller, path: str, body: dict[str, Any]) -> int:
    response = await caller.post(path, body)
    assert response.status_code == 202, response.text
    invitation_id: int = response.json()["id"]
    return invitation_id


class TestScopes:
    @pytest.fixture
    async def invitations(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, a: Tenant
    ) -> dict[str, int]:
        """One invitation of each kind and scope, by the university admin."""
        admin = Caller(client, settings, a.admin)
        roles = _roles(a)
        other_course = await make_course(db, university=a.university, department=a.other_department)
        other_offering = await make_offering(db, course=other_course)
        return {
            "university_role": await _invite(admin, roles, {"email": "u@example.edu", "role": "TA"}),
            "department_role": await _invite(
                admin, roles, {"email": "d@example.edu", "role": "TA", "department_id": a.department.id}
            ),
            "other_department_role": await _invite(
                admin, roles, {"email": "o@example.edu", "role": "TA", "department_id": a.other_department.id}
            ),
            # Names the department admin's own department, but is a role only the university admin may grant.
            "department_admin_role": await _invite(
                admin, roles, {"email": "r@example.edu", "role": "DEPARTMENT_ADMIN", "department_id": a.department.id}
            ),
            "department_course": await _invite(
                admin, f"/offerings/{a.offering.id}/enrollments", {"email": "c@example.edu"}
            ),
            "other_department_course": await _invite(
                admin, f"/offerings/{other_offering.id}/enrollments", {"email": "x@example.edu"}
            ),
        }

    async def test_the_university_admin_sees_them_all(
        self, client: httpx.AsyncClient, settings: Settings, a: Tenant, invitations: dict[str, int]
    ) -> None:
        assert await _seen(Caller(client, settings, a.admin), a) == set(invitations.values())

    async def test_a_department_admin_sees_their_departments_roles_and_courses(
        self, client: httpx.AsyncClient, settings: Settings, a: Tenant, invitations: dict[str, int]
    ) -> None:
        seen = await _seen(Caller(client, settings, a.department_admin), a)
        assert seen == {invitations["department_role"], invitations["department_course"]}

    async def test_a_department_instructor_sees_their_departments_courses_and_what_they_sent(
        self, client: httpx.AsyncClient, settings: Settings, a: Tenant, invitations: dict[str, int]
    ) -> None:
        instructor = Caller(client, settings, a.department_instructor)
        own = await _invite(instructor, f"/offerings/{a.offering.id}/enrollments", {"email": "mine@example.edu"})
        assert await _seen(instructor, a) == {invitations["department_course"], own}

    async def test_a_university_wide_instructor_sees_every_enrolment_invitation(
        self, client: httpx.AsyncClient, settings: Settings, a: Tenant, invitations: dict[str, int]
    ) -> None:
        seen = await _seen(Caller(client, settings, a.instructor), a)
        assert seen == {invitations["department_course"], invitations["other_department_course"]}

    async def test_a_department_admin_may_not_revoke_what_they_do_not_see(
        self, client: httpx.AsyncClient, settings: Settings, a: Tenant, invitations: dict[str, int]
    ) -> None:
        department_admin = Caller(client, settings, a.department_admin)
        assert (await department_admin.delete(f"/invitations/{invitations['university_role']}")).status_code == 403
        assert (await department_admin.delete(f"/invitations/{invitations['department_role']}")).status_code == 204

    @pytest.mark.parametrize("who", ["admin", "department_admin", "instructor", "department_instructor"])
    async def test_what_a_caller_lists_is_exactly_what_they_may_revoke(
        self, client: httpx.AsyncClient, settings: Settings, a: Tenant, invitations: dict[str, int], who: str
    ) -> None:
        """The list's SQL and the revocation's Python predicate are twins: they must agree on every invitation."""
        caller = Caller(client, settings, getattr(a, who))
        seen = await _seen(caller, a)
        revoked = set()
        for invitation in invitations.values():
            status = (await caller.delete(f"/invitations/{invitation}")).status_code
            assert status in {204, 403}
            if status == 204:
                revoked.add(invitation)
        assert revoked == seen

    async def test_the_status_filter(
        self, client: httpx.AsyncClient, settings: Settings, a: Tenant, invitations: dict[str, int]
    ) -> None:
        admin = Caller(client, settings, a.admin)
        await admin.delete(f"/invitations/{invitations['university_role']}")
        revoked = (await admin.get(_list(a), params={"status": "REVOKED"})).json()
        assert [i["id"] for i in revoked["items"]] == [invitations["university_role"]]
        assert (await admin.get(_list(a), params={"status": "PENDING"})).json()["total"] == len(invitations) - 1
        assert (await admin.get(_list(a), params={"status": "LOST"})).status_code == 422


class TestADepartmentAdminsReplacement:
    """A DEPARTMENT_ADMIN invitation naming their department is one a department admin may not issue: they may not
    see it or revoke it either (they could otherwise block their own replacement)."""

    @pytest.fixture
    def body(self, a: Tenant) -> dict[str, Any]:
        return {"email": "successor@example.edu", "role": "DEPARTMENT_ADMIN", "department_id": a.department.id}

    async def test_the_department_admin_may_not_issue_it(
        self, client: httpx.AsyncClient, settings: Settings, a: Tenant, body: dict[str, Any]
    ) -> None:
        response = await Caller(client, settings, a.department_admin).post(_roles(a), body)
        assert (response.status_code, response.json()["error"]["code"]) == (403, "role_not_grantable")

    async def test_nor_see_it_when_the_university_admin_issues_it(
        self, client: httpx.AsyncClient, settings: Settings, a: Tenant, body: dict[str, Any]
    ) -> None:
        invitation = await _invite(Caller(client, settings, a.admin), _roles(a), body)
        assert invitation not in await _seen(Caller(client, settings, a.department_admin), a)

    async def test_nor_revoke_it_and_it_stays_pending(
        self, client: httpx.AsyncClient, settings: Settings, a: Tenant, body: dict[str, Any]
    ) -> None:
        admin = Caller(client, settings, a.admin)
        invitation = await _invite(admin, _roles(a), body)
        response = await Caller(client, settings, a.department_admin).delete(f"/invitations/{invitation}")
        assert response.status_code == 403
        assert invitation in await _seen(admin, a, status="PENDING")


class TestWhatTheySent:
    """What a caller sent they list and revoke, also once they could no longer issue it (its acceptance re-checks
    the sender's right, so nobody can accept it anyway), as long as they still may list invitations there."""

    async def test_a_demoted_university_admin_withdraws_a_department_admin_invitation_nobody_can_accept(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, a: Tenant
    ) -> None:
        demoted = await make_member(db, a.university, UserRole.UNIVERSITY_ADMIN)
        await grant_role(db, demoted, a.university, UserRole.DEPARTMENT_ADMIN, department=a.department)
        invitee = await make_user(db)
        sender = Caller(client, settings, demoted)
        body = {"email": invitee.email, "role": "DEPARTMENT_ADMIN", "department_id": a.department.id}
        invitation = await _invite(sender, _roles(a), body)
        await _revoke(Caller(client, settings, a.admin), a, demoted.id, "UNIVERSITY_ADMIN")
        accepted = await Caller(client, settings, invitee).post(f"/invitations/{invitation}/accept")
        assert (accepted.status_code, accepted.json()["error"]["code"]) == (409, "invitation_no_longer_valid")
        assert invitation in await _seen(sender, a, status="PENDING")
        assert (await sender.delete(f"/invitations/{invitation}")).status_code == 204

    async def test_a_sender_moved_to_another_department_still_sees_and_revokes_their_invitation(
        self, client: httpx.AsyncClient, settings: Settings, a: Tenant
    ) -> None:
        sender = Caller(client, settings, a.department_admin)
        body = {"email": "i@example.edu", "role": "INSTRUCTOR", "department_id": a.department.id}
        invitation = await _invite(sender, _roles(a), body)
        admin = Caller(client, settings, a.admin)
        await _grant(admin, a, a.department_admin.id, "TA", None)  # stays a member while moved
        await _revoke(admin, a, a.department_admin.id, "DEPARTMENT_ADMIN")
        await _grant(admin, a, a.department_admin.id, "DEPARTMENT_ADMIN", a.other_department.id)
        assert (await sender.post(_roles(a), body | {"email": "j@example.edu"})).status_code == 403
        assert invitation in await _seen(sender, a)
        assert (await sender.delete(f"/invitations/{invitation}")).status_code == 204

    async def test_a_sender_left_with_a_role_that_invites_nobody_may_neither_list_nor_revoke(
        self, client: httpx.AsyncClient, settings: Settings, a: Tenant
    ) -> None:
        sender = Caller(client, settings, a.department_admin)
        body = {"email": "i@example.edu", "role": "INSTRUCTOR", "department_id": a.department.id}
        invitation = await _invite(sender, _roles(a), body)
        admin = Caller(client, settings, a.admin)
        await _grant(admin, a, a.department_admin.id, "TA", None)
        await _revoke(admin, a, a.department_admin.id, "DEPARTMENT_ADMIN")
        assert (await sender.get(_list(a))).status_code == 403
        assert (await sender.delete(f"/invitations/{invitation}")).status_code == 403


class TestWhoMayList:
    @pytest.mark.parametrize("who", ["ta", "student"])
    async def test_members_who_cannot_invite_get_403(
        self, client: httpx.AsyncClient, settings: Settings, a: Tenant, who: str
    ) -> None:
        assert (await Caller(client, settings, getattr(a, who)).get(_list(a))).status_code == 403

    async def test_another_universitys_admin_gets_404_for_the_list_and_for_revoking(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, a: Tenant
    ) -> None:
        b = await make_tenant(db)
        invitation = await _invite(
            Caller(client, settings, a.admin),
            f"/universities/{a.university.id}/roles",
            {"email": "z@e.edu", "role": "TA"},
        )
        outsider = Caller(client, settings, b.admin)
        assert (await outsider.get(_list(a))).status_code == 404
        response = await outsider.delete(f"/invitations/{invitation}")
        assert (response.status_code, response.json()["error"]["code"]) == (404, "invitation_not_found")

    async def test_without_a_token_is_401(self, client: httpx.AsyncClient, a: Tenant) -> None:
        assert (await client.get(f"/api/v1{_list(a)}")).status_code == 401
        assert (await client.get("/api/v1/users/me/invitations")).status_code == 401
