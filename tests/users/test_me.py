from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.factories import auth_headers, grant_role, make_department, make_member, make_university, make_user
from twosigma.config import Settings
from twosigma.enums import UserRole

ME = "/api/v1/users/me"
USER_FIELDS = {
    "id",
    "email",
    "full_name",
    "locale",
    "time_zone",
    "is_active",
    "email_verified_at",
    "current_streak_days",
    "last_activity_date",
    "created_at",
    "updated_at",
    "roles",
    "suspended_university_ids",
}


class TestGetMe:
    async def test_returns_the_user_and_their_roles(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        university = await make_university(db)
        department = await make_department(db, university=university)
        user = await make_member(db, university, UserRole.STUDENT)
        await grant_role(db, user, university, UserRole.INSTRUCTOR, department=department)
        response = await client.get(ME, headers=auth_headers(settings, user))
        assert response.status_code == 200
        body = response.json()
        assert set(body) == USER_FIELDS
        assert body["email"] == user.email
        assert body["roles"] == [
            {"university_id": university.id, "role": "STUDENT", "department_id": None},
            {"university_id": university.id, "role": "INSTRUCTOR", "department_id": department.id},
        ]

    async def test_never_contains_the_password_hash(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        user = await make_user(db)
        response = await client.get(ME, headers=auth_headers(settings, user))
        assert "password" not in response.text
        assert user.password_hash not in response.text

    async def test_a_user_without_roles_has_an_empty_list(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        user = await make_user(db)
        assert (await client.get(ME, headers=auth_headers(settings, user))).json()["roles"] == []

    async def test_requires_a_token(self, client: httpx.AsyncClient) -> None:
        assert (await client.get(ME)).status_code == 401


class TestUpdateMe:
    async def test_changes_only_the_fields_sent(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        user = await make_user(db, full_name="Old Name")
        response = await client.patch(
            ME, headers=auth_headers(settings, user), json={"time_zone": "Asia/Tokyo", "locale": "ja"}
        )
        assert response.status_code == 200
        body = response.json()
        assert (body["full_name"], body["time_zone"], body["locale"]) == ("Old Name", "Asia/Tokyo", "ja")
        assert body["updated_at"] >= body["created_at"]

    async def test_trims_the_full_name(self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings) -> None:
        user = await make_user(db)
        response = await client.patch(ME, headers=auth_headers(settings, user), json={"full_name": "  Grace  "})
        assert response.json()["full_name"] == "Grace"

    async def test_an_empty_body_changes_nothing(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        user = await make_user(db, full_name="Same")
        response = await client.patch(ME, headers=auth_headers(settings, user), json={})
        assert response.status_code == 200
        assert response.json()["full_name"] == "Same"

    async def test_an_unknown_time_zone_is_refused(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        user = await make_user(db)
        response = await client.patch(ME, headers=auth_headers(settings, user), json={"time_zone": "Europe/Atlantis"})
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "validation_error"

    async def test_null_is_refused(self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings) -> None:
        user = await make_user(db)
        response = await client.patch(ME, headers=auth_headers(settings, user), json={"full_name": None})
        assert response.status_code == 422

    async def test_email_and_activity_cannot_be_changed_here(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        user = await make_user(db)
        for field, value in (("email", "new@example.edu"), ("is_active", False), ("current_streak_days", 99)):
            response = await client.patch(ME, headers=auth_headers(settings, user), json={field: value})
            assert response.status_code == 422, field

    async def test_requires_a_token(self, client: httpx.AsyncClient) -> None:
        assert (await client.patch(ME, json={"full_name": "X"})).status_code == 401
