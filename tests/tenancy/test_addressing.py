"""Issue 17: staff could read any account's email and name by user id (grant a role, read the answer, revoke it).

Staff address a user by id only inside their university; anyone else by email, which makes an invitation whose
answer does not depend on whether an account has that address.
"""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.factories import make_user
from tests.fixtures.membership import Caller, Tenant, without_ids_and_times
from tests.fixtures.tenancy import make_platform_admin
from twosigma.config import Settings
from twosigma.users.models import User


def _roles(t: Tenant) -> str:
    return f"/universities/{t.university.id}/roles"


def _reveals(response: httpx.Response, user: User) -> bool:
    text = response.text.lower()
    return user.email.lower() in text or user.full_name.lower() in text


class TestRoleGrantByIdStaysInsideTheUniversity:
    async def test_admin_of_a_granting_a_role_to_a_user_of_b_gets_404_and_learns_nothing(
        self, client: httpx.AsyncClient, settings: Settings, a: Tenant, b: Tenant
    ) -> None:
        admin = Caller(client, settings, a.admin)
        response = await admin.post(_roles(a), {"user_id": b.student.id, "role": "TA"})
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "user_not_found"
        assert not _reveals(response, b.student)
        for path in (_roles(a), f"/universities/{a.university.id}/members", f"/universities/{a.university.id}/audit"):
            listing = await admin.get(path, params={"limit": 100})
            assert listing.status_code == 200
            assert not _reveals(listing, b.student), path

    async def test_a_user_of_b_and_an_id_nobody_holds_get_the_same_answer(
        self, client: httpx.AsyncClient, settings: Settings, a: Tenant, b: Tenant
    ) -> None:
        admin = Caller(client, settings, a.admin)
        existing = await admin.post(_roles(a), {"user_id": b.student.id, "role": "TA"})
        missing = await admin.post(_roles(a), {"user_id": 2_000_000_000, "role": "TA"})
        assert (existing.status_code, existing.json()) == (missing.status_code, missing.json())

    async def test_a_user_with_no_university_at_all_is_404_too(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, a: Tenant
    ) -> None:
        loner = await make_user(db)
        response = await Caller(client, settings, a.admin).post(_roles(a), {"user_id": loner.id, "role": "STUDENT"})
        assert response.status_code == 404
        assert not _reveals(response, loner)

    async def test_a_member_by_enrolment_only_is_addressable_by_id(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, a: Tenant
    ) -> None:
        from tests.fixtures.courses import make_enrollment

        enrolled = await make_user(db)  # an enrolment in one of A's offerings, no role row
        await make_enrollment(db, user=enrolled, offering=a.offering)
        response = await Caller(client, settings, a.admin).post(_roles(a), {"user_id": enrolled.id, "role": "TA"})
        assert response.status_code == 201, response.text

    async def test_platform_admin_addresses_anyone_by_id(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, a: Tenant, b: Tenant
    ) -> None:
        admin = Caller(client, settings, await make_platform_admin(db))
        response = await admin.post(_roles(a), {"user_id": b.student.id, "role": "TA"})
        assert response.status_code == 201
        assert response.json()["user_email"] == b.student.email


class TestRoleGrantByEmailIsAnInvitation:
    async def test_an_existing_and_a_nonexistent_email_get_the_same_answer(
        self, client: httpx.AsyncClient, settings: Settings, a: Tenant, b: Tenant
    ) -> None:
        admin = Caller(client, settings, a.admin)
        existing = await admin.post(_roles(a), {"email": b.student.email, "role": "TA"})
        missing = await admin.post(_roles(a), {"email": "nobody-at-all@nowhere.example", "role": "TA"})
        assert existing.status_code == missing.status_code == 202
        assert without_ids_and_times(existing.json()) == without_ids_and_times(missing.json())
        assert existing.json()["email"] == b.student.email
        assert existing.json()["user_id"] is None
        assert existing.json()["status"] == "PENDING"
        assert b.student.full_name.lower() not in existing.text.lower()

    async def test_an_email_of_a_current_member_is_an_invitation_too(
        self, client: httpx.AsyncClient, settings: Settings, a: Tenant
    ) -> None:
        """The answer never depends on the account behind the address, membership included."""
        response = await Caller(client, settings, a.admin).post(_roles(a), {"email": a.student.email, "role": "TA"})
        assert response.status_code == 202
        assert response.json()["user_id"] is None

    async def test_the_invitation_grants_nothing_until_accepted(
        self, client: httpx.AsyncClient, settings: Settings, a: Tenant, b: Tenant
    ) -> None:
        await Caller(client, settings, a.admin).post(_roles(a), {"email": b.student.email, "role": "TA"})
        me = await Caller(client, settings, b.student).get("/users/me")
        assert all(r["university_id"] != a.university.id for r in me.json()["roles"])

    async def test_who_may_not_grant_the_role_may_not_invite_to_it_either(
        self, client: httpx.AsyncClient, settings: Settings, a: Tenant
    ) -> None:
        response = await Caller(client, settings, a.admin).post(
            _roles(a), {"email": "someone@example.edu", "role": "PLATFORM_ADMIN"}
        )
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "role_not_grantable"


class TestGrantThenRevokeLeavesATrail:
    async def test_the_grant_and_its_revocation_are_in_the_audit_log(
        self, client: httpx.AsyncClient, settings: Settings, a: Tenant
    ) -> None:
        admin = Caller(client, settings, a.admin)
        grant = (await admin.post(_roles(a), {"user_id": a.student.id, "role": "TA"})).json()
        assert (await admin.delete(f"{_roles(a)}/{grant['id']}")).status_code == 204
        log = (await admin.get(f"/universities/{a.university.id}/audit")).json()
        revoked, granted = log["items"][:2]
        assert (revoked["action"], granted["action"]) == ("role.revoked", "role.granted")
        for event in (revoked, granted):
            assert (event["actor_id"], event["actor_email"]) == (a.admin.id, a.admin.email)
            assert (event["target_user_id"], event["target_email"]) == (a.student.id, a.student.email)
            assert (event["resource_type"], event["resource_id"]) == ("grant", grant["id"])
            assert event["details"] == {"role": "TA", "department_id": None}
