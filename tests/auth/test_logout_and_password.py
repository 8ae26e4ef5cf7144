from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.auth import STRONG_PASSWORD, bearer, claims_of, new_email, register
from tests.fixtures.factories import DEFAULT_PASSWORD, auth_headers, make_user
from twosigma.auth.models import RefreshToken
from twosigma.config import Settings

LOGOUT = "/api/v1/auth/logout"
REFRESH = "/api/v1/auth/refresh"
CHANGE = "/api/v1/auth/change-password"
LOGIN = "/api/v1/auth/login"


class TestLogout:
    async def test_revokes_the_family_so_refresh_fails(self, client: httpx.AsyncClient) -> None:
        pair = await register(client)
        second = (await client.post(REFRESH, headers=bearer(pair["refresh_token"]))).json()
        response = await client.post(LOGOUT, json={"refresh_token": second["refresh_token"]})
        assert response.status_code == 204
        assert response.content == b""
        assert (await client.post(REFRESH, headers=bearer(second["refresh_token"]))).status_code == 401

    async def test_a_refresh_after_logout_says_the_token_was_revoked_not_reused(
        self, client: httpx.AsyncClient
    ) -> None:
        pair = await register(client)
        await client.post(LOGOUT, json={"refresh_token": pair["refresh_token"]})
        response = await client.post(REFRESH, headers=bearer(pair["refresh_token"]))
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "refresh_token_revoked"
        assert response.headers["WWW-Authenticate"] == "Bearer"

    async def test_an_access_token_is_refused_with_a_grammatical_message(self, client: httpx.AsyncClient) -> None:
        pair = await register(client)
        response = await client.post(LOGOUT, json={"refresh_token": pair["access_token"]})
        assert response.json()["error"]["message"] == "A refresh token is required."

    async def test_leaves_other_sign_ins_alone(self, client: httpx.AsyncClient) -> None:
        address = new_email()
        first = await register(client, email=address)
        other = (await client.post(LOGIN, json={"email": address, "password": STRONG_PASSWORD})).json()
        await client.post(LOGOUT, json={"refresh_token": first["refresh_token"]})
        assert (await client.post(REFRESH, headers=bearer(other["refresh_token"]))).status_code == 200

    async def test_logging_out_twice_is_fine(self, client: httpx.AsyncClient) -> None:
        pair = await register(client)
        await client.post(LOGOUT, json={"refresh_token": pair["refresh_token"]})
        response = await client.post(LOGOUT, json={"refresh_token": pair["refresh_token"]})
        assert response.status_code == 204

    async def test_an_invalid_token_is_401(self, client: httpx.AsyncClient) -> None:
        response = await client.post(LOGOUT, json={"refresh_token": "not.a.token"})
        assert response.status_code == 401

    async def test_an_access_token_is_401(self, client: httpx.AsyncClient) -> None:
        pair = await register(client)
        response = await client.post(LOGOUT, json={"refresh_token": pair["access_token"]})
        assert response.status_code == 401

    async def test_a_missing_token_is_a_validation_error(self, client: httpx.AsyncClient) -> None:
        response = await client.post(LOGOUT, json={})
        assert response.status_code == 422


class TestChangePassword:
    async def test_the_new_password_works_and_the_old_one_does_not(self, client: httpx.AsyncClient) -> None:
        address = new_email()
        pair = await register(client, email=address)
        response = await client.post(
            CHANGE,
            headers=bearer(pair["access_token"]),
            json={"current_password": STRONG_PASSWORD, "new_password": "brand-new-99"},
        )
        assert response.status_code == 204
        old = await client.post(LOGIN, json={"email": address, "password": STRONG_PASSWORD})
        new = await client.post(LOGIN, json={"email": address, "password": "brand-new-99"})
        assert (old.status_code, new.status_code) == (401, 200)

    async def test_revokes_every_refresh_token_of_the_user(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        address = new_email()
        first = await register(client, email=address)
        other = (await client.post(LOGIN, json={"email": address, "password": STRONG_PASSWORD})).json()
        await client.post(
            CHANGE,
            headers=bearer(first["access_token"]),
            json={"current_password": STRONG_PASSWORD, "new_password": "brand-new-99"},
        )
        for pair in (first, other):
            assert (await client.post(REFRESH, headers=bearer(pair["refresh_token"]))).status_code == 401
        user_id = int(claims_of(first["access_token"])["sub"])
        db.expire_all()
        rows = await db.scalars(select(RefreshToken).where(RefreshToken.user_id == user_id))
        assert all(row.revoked_at is not None for row in rows)

    async def test_a_refresh_after_a_password_change_says_the_token_was_revoked(
        self, client: httpx.AsyncClient
    ) -> None:
        pair = await register(client)
        await client.post(
            CHANGE,
            headers=bearer(pair["access_token"]),
            json={"current_password": STRONG_PASSWORD, "new_password": "brand-new-99"},
        )
        response = await client.post(REFRESH, headers=bearer(pair["refresh_token"]))
        assert response.json()["error"]["code"] == "refresh_token_revoked"

    async def test_a_wrong_current_password_is_422_and_changes_nothing(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        user = await make_user(db)
        response = await client.post(
            CHANGE,
            headers=auth_headers(settings, user),
            json={"current_password": "not-it-123", "new_password": "brand-new-99"},
        )
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "invalid_current_password"
        login = await client.post(LOGIN, json={"email": user.email, "password": DEFAULT_PASSWORD})
        assert login.status_code == 200

    async def test_the_new_password_must_meet_the_policy(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        user = await make_user(db)
        response = await client.post(
            CHANGE,
            headers=auth_headers(settings, user),
            json={"current_password": DEFAULT_PASSWORD, "new_password": "short"},
        )
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "validation_error"

    async def test_requires_a_signed_in_user(self, client: httpx.AsyncClient) -> None:
        response = await client.post(CHANGE, json={"current_password": "abc12345", "new_password": "brand-new-99"})
        assert response.status_code == 401
