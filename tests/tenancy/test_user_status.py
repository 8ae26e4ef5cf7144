from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.factories import auth_headers, grant_role, make_member, make_university, make_user
from tests.fixtures.membership import Caller, make_tenant
from tests.fixtures.tenancy import make_campus, make_platform_admin
from twosigma.audit.models import AuditEvent
from twosigma.auth.models import RefreshToken
from twosigma.config import Settings
from twosigma.enums import UserRole
from twosigma.users.models import User


def _url(user_id: int) -> str:
    return f"/api/v1/users/{user_id}"


async def _refresh_token(db: AsyncSession, user: User) -> RefreshToken:
    token = RefreshToken(
        jti=uuid.uuid4().hex,
        user_id=user.id,
        family_id=uuid.uuid4().hex,
        expires_at=datetime.now(UTC) + timedelta(days=14),
    )
    db.add(token)
    await db.flush()
    return token


class TestSetUserStatus:
    async def test_platform_admin_deactivates_a_member(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        admin, campus = await make_platform_admin(db), await make_campus(db)
        response = await client.patch(
            _url(campus.student.id), json={"is_active": False}, headers=auth_headers(settings, admin)
        )
        assert response.status_code == 200
        assert response.json() == {
            "id": campus.student.id,
            "email": campus.student.email,
            "full_name": campus.student.full_name,
            "is_active": False,
        }

    async def test_university_admin_may_not_deactivate_even_their_own_member(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus = await make_campus(db)
        response = await client.patch(
            _url(campus.student.id), json={"is_active": False}, headers=auth_headers(settings, campus.admin)
        )
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "platform_admin_only"
        me = await client.get("/api/v1/users/me", headers=auth_headers(settings, campus.student))
        assert me.json()["is_active"] is True

    async def test_granting_a_role_first_does_not_let_a_university_admin_lock_anyone_out(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        """The issue's attack: grant a role to any account (now an invitation, not a grant), then deactivate it."""
        campus, victim = await make_campus(db), await make_user(db)
        headers = auth_headers(settings, campus.admin)
        grant = await client.post(
            f"/api/v1/universities/{campus.university.id}/roles",
            json={"user_id": victim.id, "role": "TA"},
            headers=headers,
        )
        assert grant.status_code == 404
        response = await client.patch(_url(victim.id), json={"is_active": False}, headers=headers)
        assert response.status_code == 404
        me = await client.get("/api/v1/users/me", headers=auth_headers(settings, victim))
        assert me.status_code == 200

    async def test_deactivation_locks_the_user_out_at_once(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        admin, campus = await make_platform_admin(db), await make_campus(db)
        student_headers = auth_headers(settings, campus.student)
        await client.patch(_url(campus.student.id), json={"is_active": False}, headers=auth_headers(settings, admin))
        response = await client.get(f"/api/v1/universities/{campus.university.id}/roles", headers=student_headers)
        assert response.status_code == 401

    async def test_deactivation_revokes_refresh_tokens_and_is_audited(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        admin, campus = await make_platform_admin(db), await make_campus(db)
        token = await _refresh_token(db, campus.student)
        await client.patch(_url(campus.student.id), json={"is_active": False}, headers=auth_headers(settings, admin))
        revoked_at = await db.scalar(select(RefreshToken.revoked_at).where(RefreshToken.id == token.id))
        assert revoked_at is not None
        event = (await db.scalars(select(AuditEvent).where(AuditEvent.target_user_id == campus.student.id))).one()
        assert (event.action, event.actor_id, event.university_id) == ("account.deactivated", admin.id, None)

    async def test_reactivation_restores_access(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        admin, campus = await make_platform_admin(db), await make_campus(db)
        student = await make_member(db, campus.university, UserRole.STUDENT, is_active=False)
        response = await client.patch(_url(student.id), json={"is_active": True}, headers=auth_headers(settings, admin))
        assert response.json()["is_active"] is True

    async def test_platform_admin_manages_anyone(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        admin = await make_platform_admin(db)
        loner = await make_user(db)  # no role anywhere
        response = await client.patch(_url(loner.id), json={"is_active": False}, headers=auth_headers(settings, admin))
        assert response.status_code == 200

    async def test_nobody_deactivates_themselves(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        admin = await make_platform_admin(db)
        response = await client.patch(_url(admin.id), json={"is_active": False}, headers=auth_headers(settings, admin))
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "cannot_deactivate_self"

    async def test_university_admin_may_not_manage_a_member_of_another_university_too(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus = await make_campus(db)
        await grant_role(db, campus.student, await make_university(db), UserRole.STUDENT)
        response = await client.patch(
            _url(campus.student.id), json={"is_active": False}, headers=auth_headers(settings, campus.admin)
        )
        assert response.status_code == 403

    async def test_university_admin_may_not_manage_a_platform_admin(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus = await make_campus(db)
        platform_admin = await make_member(db, campus.university, UserRole.PLATFORM_ADMIN)
        response = await client.patch(
            _url(platform_admin.id), json={"is_active": False}, headers=auth_headers(settings, campus.admin)
        )
        assert response.status_code == 403

    async def test_user_of_another_university_is_404(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus, other = await make_campus(db), await make_campus(db)
        response = await client.patch(
            _url(other.student.id), json={"is_active": False}, headers=auth_headers(settings, campus.admin)
        )
        assert response.status_code == 404

    async def test_user_without_any_role_is_404_for_a_university_admin(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus = await make_campus(db)
        loner = await make_user(db)
        response = await client.patch(
            _url(loner.id), json={"is_active": False}, headers=auth_headers(settings, campus.admin)
        )
        assert response.status_code == 404

    async def test_unknown_user_is_404(self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings) -> None:
        admin = await make_platform_admin(db)
        response = await client.patch(_url(99999999), json={"is_active": False}, headers=auth_headers(settings, admin))
        assert response.status_code == 404

    async def test_missing_or_unknown_fields_are_422(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus = await make_campus(db)
        headers = auth_headers(settings, campus.admin)
        assert (await client.patch(_url(campus.student.id), json={}, headers=headers)).status_code == 422
        response = await client.patch(
            _url(campus.student.id), json={"is_active": False, "email": "x@y.z"}, headers=headers
        )
        assert response.status_code == 422

    async def test_without_a_token_is_401(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        campus = await make_campus(db)
        assert (await client.patch(_url(campus.student.id), json={"is_active": False})).status_code == 401


class TestOnlyTheUniversitysAdminsAreToldTheAccountIsAMember:
    """403 `platform_admin_only` is for UNIVERSITY_ADMINs of a university the user belongs to; anyone else, fellow
    members included, gets the 404 of an id nobody holds, so a member cannot tell members' ids from the rest."""

    async def test_a_self_enrolled_student_cannot_tell_a_member_id_from_an_outsider_or_nobody(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        a, b = await make_tenant(db), await make_tenant(db)
        student = Caller(client, settings, await make_user(db))
        assert (await student.post(f"/offerings/{a.offering.id}/enroll")).status_code == 201
        member = await student.patch(f"/users/{a.ta.id}", {"is_active": False})
        outsider = await student.patch(f"/users/{b.ta.id}", {"is_active": False})
        nobody = await student.patch("/users/2000000000", {"is_active": False})
        assert member.status_code == outsider.status_code == nobody.status_code == 404
        assert member.json() == outsider.json() == nobody.json()

    @pytest.mark.parametrize("who", ["department_admin", "instructor", "department_instructor", "ta", "student"])
    async def test_staff_who_do_not_administer_the_university_get_404(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, who: str
    ) -> None:
        a = await make_tenant(db)
        target = await make_member(db, a.university, UserRole.STUDENT)
        response = await Caller(client, settings, getattr(a, who)).patch(f"/users/{target.id}", {"is_active": False})
        nobody = await Caller(client, settings, getattr(a, who)).patch("/users/2000000000", {"is_active": False})
        assert (response.status_code, response.json()) == (404, nobody.json())

    async def test_a_university_admin_is_told_403_only_about_members_of_a_university_they_administer(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        a, b = await make_tenant(db), await make_tenant(db)
        await grant_role(db, a.admin, b.university, UserRole.STUDENT)  # a fellow member of B, not its admin
        admin = Caller(client, settings, a.admin)
        of_b = await admin.patch(f"/users/{b.ta.id}", {"is_active": False})
        of_a = await admin.patch(f"/users/{a.ta.id}", {"is_active": False})
        assert of_b.status_code == 404
        assert (of_a.status_code, of_a.json()["error"]["code"]) == (403, "platform_admin_only")
