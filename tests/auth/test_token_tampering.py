"""Access tokens that must be refused, checked on GET /users/me (any protected route behaves the same)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import httpx
import jwt
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.auth import bearer
from tests.fixtures.factories import access_token, auth_headers, make_user
from twosigma.config import Settings

ME = "/api/v1/users/me"


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _payload(user_id: int, **overrides: object) -> dict[str, object]:
    now = int(datetime.now(UTC).timestamp())
    return {"sub": str(user_id), "iat": now, "exp": now + 600, "jti": "j", "type": "access", **overrides}


class TestTokenTampering:
    async def test_missing_token_is_401(self, client: httpx.AsyncClient) -> None:
        response = await client.get(ME)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "not_authenticated"

    async def test_garbage_token_is_401(self, client: httpx.AsyncClient) -> None:
        response = await client.get(ME, headers=bearer("garbage"))
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_token"

    async def test_a_token_signed_with_another_key_is_401(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        user = await make_user(db)
        forged = jwt.encode(_payload(user.id), "some-other-secret-key-of-enough-length-123", algorithm="HS256")
        response = await client.get(ME, headers=bearer(forged))
        assert response.status_code == 401

    async def test_alg_none_is_401(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        user = await make_user(db)
        unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_payload(user.id))}."
        response = await client.get(ME, headers=bearer(unsigned))
        assert response.status_code == 401

    async def test_a_payload_edited_after_signing_is_401(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        user, victim = await make_user(db), await make_user(db)
        header, _, signature = access_token(settings, user).split(".")
        edited = f"{header}.{_b64(_payload(victim.id))}.{signature}"
        response = await client.get(ME, headers=bearer(edited))
        assert response.status_code == 401

    async def test_an_expired_token_is_401(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        user = await make_user(db)
        token = access_token(settings, user, lifetime=timedelta(seconds=-1))
        response = await client.get(ME, headers=bearer(token))
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "token_expired"

    async def test_a_token_of_the_wrong_type_is_401(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        user = await make_user(db)
        token = jwt.encode(
            _payload(user.id, type="refresh", fam="f"), settings.secret_key.get_secret_value(), algorithm="HS256"
        )
        response = await client.get(ME, headers=bearer(token))
        assert response.status_code == 401

    async def test_a_token_without_a_type_is_401(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        user = await make_user(db)
        payload = _payload(user.id)
        del payload["type"]
        token = jwt.encode(payload, settings.secret_key.get_secret_value(), algorithm="HS256")
        assert (await client.get(ME, headers=bearer(token))).status_code == 401

    async def test_a_token_for_a_deleted_user_is_401(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        user = await make_user(db)
        headers = auth_headers(settings, user)
        await db.delete(user)
        await db.flush()
        response = await client.get(ME, headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_token"


class TestDeactivation:
    async def test_a_deactivated_users_access_token_stops_working_at_once(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        user = await make_user(db)
        headers = auth_headers(settings, user)
        assert (await client.get(ME, headers=headers)).status_code == 200
        user.is_active = False
        await db.flush()
        response = await client.get(ME, headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "account_inactive"
