from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.factories import auth_headers, grant_role, make_member, make_user
from tests.fixtures.tenancy import make_campus, make_platform_admin
from twosigma.config import Settings
from twosigma.enums import UserRole
from twosigma.tenancy.models import UserUniversityRole
from twosigma.users.models import User


def _url(university_id: int) -> str:
    return f"/api/v1/universities/{university_id}/roles"


class TestListGrants:
    async def test_university_admin_lists_grants_with_user_details(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus = await make_campus(db)
        body = (await client.get(_url(campus.university.id), headers=auth_headers(settings, campus.admin))).json()
        assert body["total"] == 5
        student = next(g for g in body["items"] if g["role"] == "STUDENT")
        assert (student["user_id"], student["user_email"], student["user_full_name"]) == (
            campus.student.id,
            campus.student.email,
            campus.student.full_name,
        )

    async def test_filters_by_role_and_department(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus = await make_campus(db)
        headers = auth_headers(settings, campus.admin)
        by_role = (await client.get(_url(campus.university.id), params={"role": "TA"}, headers=headers)).json()
        assert [g["user_id"] for g in by_role["items"]] == [campus.ta.id]
        by_department = (
            await client.get(
                _url(campus.university.id), params={"department_id": campus.department.id}, headers=headers
            )
        ).json()
        assert [g["user_id"] for g in by_department["items"]] == [campus.department_admin.id]

    async def test_department_admin_may_list(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus = await make_campus(db)
        response = await client.get(_url(campus.university.id), headers=auth_headers(settings, campus.department_admin))
        assert response.status_code == 200

    async def test_unknown_role_filter_is_422(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus = await make_campus(db)
        response = await client.get(
            _url(campus.university.id), params={"role": "OWNER"}, headers=auth_headers(settings, campus.admin)
        )
        assert response.status_code == 422

    async def test_student_is_403(self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings) -> None:
        campus = await make_campus(db)
        response = await client.get(_url(campus.university.id), headers=auth_headers(settings, campus.student))
        assert response.status_code == 403

    async def test_another_universitys_admin_is_404(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus, other = await make_campus(db), await make_campus(db)
        response = await client.get(_url(campus.university.id), headers=auth_headers(settings, other.admin))
        assert response.status_code == 404

    async def test_without_a_token_is_401(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        campus = await make_campus(db)
        assert (await client.get(_url(campus.university.id))).status_code == 401


class TestGrantRole:
    async def _post(
        self, client: httpx.AsyncClient, settings: Settings, granter: User, university_id: int, **body: Any
    ) -> httpx.Response:
        return await client.post(_url(university_id), json=body, headers=auth_headers(settings, granter))

    async def test_university_admin_grants_a_member_by_id(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus = await make_campus(db)
        response = await self._post(
            client, settings, campus.admin, campus.university.id, user_id=campus.student.id, role="INSTRUCTOR"
        )
        assert response.status_code == 201
        body = response.json()
        assert (body["user_id"], body["role"], body["department_id"]) == (campus.student.id, "INSTRUCTOR", None)
        assert body["user_email"] == campus.student.email

    async def test_platform_admin_grants_anyone_by_email(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        admin = await make_platform_admin(db)
        campus = await make_campus(db)
        user = await make_user(db)  # no role anywhere: platform admins see every account anyway
        response = await self._post(
            client, settings, admin, campus.university.id, email=user.email.upper(), role="INSTRUCTOR"
        )
        assert response.status_code == 201
        body = response.json()
        assert (body["user_id"], body["role"], body["department_id"]) == (user.id, "INSTRUCTOR", None)
        assert body["user_email"] == user.email

    async def test_university_admin_grants_a_department_admin(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus = await make_campus(db)
        response = await self._post(
            client,
            settings,
            campus.admin,
            campus.university.id,
            user_id=campus.instructor.id,
            role="DEPARTMENT_ADMIN",
            department_id=campus.other_department.id,
        )
        assert response.status_code == 201

    async def test_university_admin_may_not_grant_platform_admin(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus = await make_campus(db)
        response = await self._post(
            client, settings, campus.admin, campus.university.id, user_id=campus.ta.id, role="PLATFORM_ADMIN"
        )
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "role_not_grantable"

    async def test_platform_admin_grants_platform_admin(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        admin = await make_platform_admin(db)
        campus = await make_campus(db)
        response = await self._post(
            client, settings, admin, campus.university.id, user_id=campus.admin.id, role="PLATFORM_ADMIN"
        )
        assert response.status_code == 201

    @pytest.mark.parametrize("role", ["INSTRUCTOR", "TA", "STUDENT"])
    async def test_department_admin_grants_teaching_roles_in_their_department(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, role: str
    ) -> None:
        campus = await make_campus(db)
        user = await make_member(db, campus.university, UserRole.DEPARTMENT_ADMIN, department=campus.other_department)
        response = await self._post(
            client,
            settings,
            campus.department_admin,
            campus.university.id,
            user_id=user.id,
            role=role,
            department_id=campus.department.id,
        )
        assert response.status_code == 201

    @pytest.mark.parametrize("role", ["DEPARTMENT_ADMIN", "UNIVERSITY_ADMIN", "PLATFORM_ADMIN"])
    async def test_department_admin_may_not_grant_admin_roles(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, role: str
    ) -> None:
        campus = await make_campus(db)
        user = await make_user(db)
        department = {"department_id": campus.department.id} if role == "DEPARTMENT_ADMIN" else {}
        response = await self._post(
            client, settings, campus.department_admin, campus.university.id, user_id=user.id, role=role, **department
        )
        assert response.status_code == 403

    async def test_department_admin_may_not_grant_in_another_department(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus = await make_campus(db)
        user = await make_user(db)
        response = await self._post(
            client,
            settings,
            campus.department_admin,
            campus.university.id,
            user_id=user.id,
            role="INSTRUCTOR",
            department_id=campus.other_department.id,
        )
        assert response.status_code == 403

    async def test_department_admin_may_not_grant_university_wide(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus = await make_campus(db)
        user = await make_user(db)
        response = await self._post(
            client, settings, campus.department_admin, campus.university.id, user_id=user.id, role="STUDENT"
        )
        assert response.status_code == 403

    @pytest.mark.parametrize("granter", ["student", "ta", "instructor"])
    async def test_members_without_admin_roles_are_403(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, granter: str
    ) -> None:
        campus = await make_campus(db)
        user = await make_user(db)
        response = await self._post(
            client, settings, getattr(campus, granter), campus.university.id, user_id=user.id, role="STUDENT"
        )
        assert response.status_code == 403

    async def test_another_universitys_admin_is_404(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus, other = await make_campus(db), await make_campus(db)
        user = await make_user(db)
        response = await self._post(client, settings, other.admin, campus.university.id, user_id=user.id, role="TA")
        assert response.status_code == 404

    async def test_unknown_email_is_404_user_not_found_for_a_platform_admin(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        admin = await make_platform_admin(db)
        campus = await make_campus(db)
        response = await self._post(
            client, settings, admin, campus.university.id, email="nobody@nowhere.example", role="TA"
        )
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "user_not_found"

    async def test_unknown_user_id_is_404_user_not_found(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus = await make_campus(db)
        response = await self._post(client, settings, campus.admin, campus.university.id, user_id=99999999, role="TA")
        assert response.json()["error"]["code"] == "user_not_found"

    @pytest.mark.parametrize(
        "body",
        [
            {"role": "TA"},
            {"role": "TA", "user_id": 1, "email": "a@example.edu"},
            {"role": "TA", "email": "not-an-email"},
            {"role": "OWNER", "user_id": 1},
            {"role": "DEPARTMENT_ADMIN", "user_id": 1},
            {"role": "UNIVERSITY_ADMIN", "user_id": 1, "department_id": 1},
        ],
    )
    async def test_malformed_bodies_are_422(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, body: dict[str, Any]
    ) -> None:
        campus = await make_campus(db)
        response = await self._post(client, settings, campus.admin, campus.university.id, **body)
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "validation_error"

    async def test_department_of_another_university_is_422(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus, other = await make_campus(db), await make_campus(db)
        response = await self._post(
            client,
            settings,
            campus.admin,
            campus.university.id,
            user_id=campus.ta.id,
            role="INSTRUCTOR",
            department_id=other.department.id,
        )
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "department_not_in_university"

    async def test_duplicate_grant_is_409(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus = await make_campus(db)
        response = await self._post(
            client, settings, campus.admin, campus.university.id, user_id=campus.student.id, role="STUDENT"
        )
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "role_exists"

    async def test_without_a_token_is_401(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        campus = await make_campus(db)
        response = await client.post(_url(campus.university.id), json={"user_id": campus.ta.id, "role": "STUDENT"})
        assert response.status_code == 401


class TestRevokeRole:
    async def _grant_id(self, db: AsyncSession, user: User, role: UserRole) -> int:
        grant_id = await db.scalar(
            select(UserUniversityRole.id).where(UserUniversityRole.user_id == user.id, UserUniversityRole.role == role)
        )
        assert grant_id is not None
        return grant_id

    async def test_university_admin_revokes_a_grant(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus = await make_campus(db)
        grant_id = await self._grant_id(db, campus.ta, UserRole.TA)
        url = f"{_url(campus.university.id)}/{grant_id}"
        response = await client.delete(url, headers=auth_headers(settings, campus.admin))
        assert response.status_code == 204
        assert (await client.delete(url, headers=auth_headers(settings, campus.admin))).status_code == 404

    async def test_department_admin_revokes_in_their_department(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus = await make_campus(db)
        user = await make_user(db)
        grant = await grant_role(db, user, campus.university, UserRole.STUDENT, department=campus.department)
        response = await client.delete(
            f"{_url(campus.university.id)}/{grant.id}", headers=auth_headers(settings, campus.department_admin)
        )
        assert response.status_code == 204

    async def test_department_admin_may_not_revoke_a_university_wide_role(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus = await make_campus(db)
        grant_id = await self._grant_id(db, campus.student, UserRole.STUDENT)
        response = await client.delete(
            f"{_url(campus.university.id)}/{grant_id}", headers=auth_headers(settings, campus.department_admin)
        )
        assert response.status_code == 403

    async def test_university_admin_may_not_revoke_platform_admin(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus = await make_campus(db)
        platform_admin = await make_user(db)
        grant = await grant_role(db, platform_admin, campus.university, UserRole.PLATFORM_ADMIN)
        response = await client.delete(
            f"{_url(campus.university.id)}/{grant.id}", headers=auth_headers(settings, campus.admin)
        )
        assert response.status_code == 403

    async def test_last_platform_admin_grant_cannot_be_revoked(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        admin = await make_platform_admin(db)
        grants = (
            await db.scalars(select(UserUniversityRole).where(UserUniversityRole.role == UserRole.PLATFORM_ADMIN))
        ).all()
        assert [g.user_id for g in grants] == [admin.id]
        response = await client.delete(
            f"{_url(grants[0].university_id)}/{grants[0].id}", headers=auth_headers(settings, admin)
        )
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "last_platform_admin"

    async def test_a_platform_admin_grant_can_go_while_another_remains(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        admin, other = await make_platform_admin(db), await make_platform_admin(db)
        grant_id = await self._grant_id(db, other, UserRole.PLATFORM_ADMIN)
        grant = await db.get(UserUniversityRole, grant_id)
        assert grant is not None
        response = await client.delete(f"{_url(grant.university_id)}/{grant_id}", headers=auth_headers(settings, admin))
        assert response.status_code == 204

    async def test_grant_of_another_university_is_404(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus, other = await make_campus(db), await make_campus(db)
        grant_id = await self._grant_id(db, other.student, UserRole.STUDENT)
        response = await client.delete(
            f"{_url(campus.university.id)}/{grant_id}", headers=auth_headers(settings, campus.admin)
        )
        assert response.status_code == 404

    async def test_another_universitys_admin_is_404(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus, other = await make_campus(db), await make_campus(db)
        grant_id = await self._grant_id(db, campus.student, UserRole.STUDENT)
        response = await client.delete(
            f"{_url(campus.university.id)}/{grant_id}", headers=auth_headers(settings, other.admin)
        )
        assert response.status_code == 404

    async def test_ta_is_403(self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings) -> None:
        campus = await make_campus(db)
        grant_id = await self._grant_id(db, campus.student, UserRole.STUDENT)
        response = await client.delete(
            f"{_url(campus.university.id)}/{grant_id}", headers=auth_headers(settings, campus.ta)
        )
        assert response.status_code == 403

    async def test_non_numeric_grant_id_is_422(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus = await make_campus(db)
        response = await client.delete(f"{_url(campus.university.id)}/x", headers=auth_headers(settings, campus.admin))
        assert response.status_code == 422

    async def test_without_a_token_is_401(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        campus = await make_campus(db)
        grant_id = await self._grant_id(db, campus.student, UserRole.STUDENT)
        assert (await client.delete(f"{_url(campus.university.id)}/{grant_id}")).status_code == 401
