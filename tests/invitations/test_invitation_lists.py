"""Who sees and revokes a university's invitations: what they could issue now, plus what they sent."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.courses import make_course, make_offering
from tests.fixtures.membership import Caller, Tenant, make_tenant
from twosigma.config import Settings


@pytest.fixture
async def a(db: AsyncSession) -> Tenant:
    return await make_tenant(db)


def _list(t: Tenant) -> str:
    return f"/universities/{t.university.id}/invitations"


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
        roles = f"/universities/{a.university.id}/roles"
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
            "department_course": await _invite(
                admin, f"/offerings/{a.offering.id}/enrollments", {"email": "c@example.edu"}
            ),
            "other_department_course": await _invite(
                admin, f"/offerings/{other_offering.id}/enrollments", {"email": "x@example.edu"}
            ),
        }

    async def _seen(self, caller: Caller, a: Tenant) -> set[int]:
        response = await caller.get(_list(a), params={"limit": 100})
        assert response.status_code == 200, response.text
        return {i["id"] for i in response.json()["items"]}

    async def test_the_university_admin_sees_them_all(
        self, client: httpx.AsyncClient, settings: Settings, a: Tenant, invitations: dict[str, int]
    ) -> None:
        assert await self._seen(Caller(client, settings, a.admin), a) == set(invitations.values())

    async def test_a_department_admin_sees_their_departments_roles_and_courses(
        self, client: httpx.AsyncClient, settings: Settings, a: Tenant, invitations: dict[str, int]
    ) -> None:
        seen = await self._seen(Caller(client, settings, a.department_admin), a)
        assert seen == {invitations["department_role"], invitations["department_course"]}

    async def test_a_department_instructor_sees_their_departments_courses_and_what_they_sent(
        self, client: httpx.AsyncClient, settings: Settings, a: Tenant, invitations: dict[str, int]
    ) -> None:
        instructor = Caller(client, settings, a.department_instructor)
        own = await _invite(instructor, f"/offerings/{a.offering.id}/enrollments", {"email": "mine@example.edu"})
        assert await self._seen(instructor, a) == {invitations["department_course"], own}

    async def test_a_university_wide_instructor_sees_every_enrolment_invitation(
        self, client: httpx.AsyncClient, settings: Settings, a: Tenant, invitations: dict[str, int]
    ) -> None:
        seen = await self._seen(Caller(client, settings, a.instructor), a)
        assert seen == {invitations["department_course"], invitations["other_department_course"]}

    async def test_a_department_admin_may_not_revoke_what_they_do_not_see(
        self, client: httpx.AsyncClient, settings: Settings, a: Tenant, invitations: dict[str, int]
    ) -> None:
        department_admin = Caller(client, settings, a.department_admin)
        assert (await department_admin.delete(f"/invitations/{invitations['university_role']}")).status_code == 403
        assert (await department_admin.delete(f"/invitations/{invitations['department_role']}")).status_code == 204

    async def test_the_status_filter(
        self, client: httpx.AsyncClient, settings: Settings, a: Tenant, invitations: dict[str, int]
    ) -> None:
        admin = Caller(client, settings, a.admin)
        await admin.delete(f"/invitations/{invitations['university_role']}")
        revoked = (await admin.get(_list(a), params={"status": "REVOKED"})).json()
        assert [i["id"] for i in revoked["items"]] == [invitations["university_role"]]
        assert (await admin.get(_list(a), params={"status": "PENDING"})).json()["total"] == 4
        assert (await admin.get(_list(a), params={"status": "LOST"})).status_code == 422


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
