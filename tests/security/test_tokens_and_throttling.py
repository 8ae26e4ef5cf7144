"""Forged JWTs are refused (alg none, RS256/HS256 key confusion, another secret, a missing type), and sign-in is
throttled per email and per client address (429 with Retry-After)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.factories import DEFAULT_PASSWORD, make_user
from twosigma.config import Settings
from twosigma.users.models import User

API = "/api/v1"
ME = f"{API}/users/me"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(user: User, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    payload: dict[str, Any] = {"sub": str(user.id), "iat": now, "exp": now + 600, "jti": "forged", "type": "access"}
    payload.update(changes)
    return {k: v for k, v in payload.items() if v is not None}


def hand_signed(header: dict[str, Any], payload: dict[str, Any], key: bytes | None) -> str:
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    signature = b"" if key is None else hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


@pytest.fixture
async def user(db: AsyncSession) -> User:
    return await make_user(db)


async def status_with(client: httpx.AsyncClient, token: str) -> tuple[int, str]:
    response = await client.get(ME, headers={"Authorization": f"Bearer {token}"})
    return response.status_code, response.json()["error"]["code"] if response.status_code >= 400 else ""


class TestForgedTokens:
    async def test_a_correctly_signed_token_is_accepted(
        self, client: httpx.AsyncClient, settings: Settings, user: User
    ) -> None:
        token = jwt.encode(claims(user), settings.secret_key.get_secret_value(), algorithm="HS256")
        assert (await status_with(client, token))[0] == 200

    async def test_alg_none_is_refused(self, client: httpx.AsyncClient, user: User) -> None:
        for alg in ("none", "None", "NONE"):
            token = hand_signed({"alg": alg, "typ": "JWT"}, claims(user), None)
            assert await status_with(client, token) == (401, "invalid_token")

    async def test_an_rs256_token_is_refused(self, client: httpx.AsyncClient, user: User) -> None:
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        token = jwt.encode(claims(user), private, algorithm="RS256")
        assert await status_with(client, token) == (401, "invalid_token")

    async def test_hs256_signed_with_a_public_key_as_the_secret_is_refused(
        self, client: httpx.AsyncClient, user: User
    ) -> None:
        """Key confusion: an attacker who knows a public key signs HS256 with it, hoping the server verifies with it."""
        public_pem = (
            rsa.generate_private_key(public_exponent=65537, key_size=2048)
            .public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        )
        token = hand_signed({"alg": "HS256", "typ": "JWT"}, claims(user), public_pem)
        assert await status_with(client, token) == (401, "invalid_token")

    async def test_a_token_signed_with_another_secret_is_refused(self, client: httpx.AsyncClient, user: User) -> None:
        token = jwt.encode(claims(user), "another-secret-that-is-long-enough-0123456789", algorithm="HS256")
        assert await status_with(client, token) == (401, "invalid_token")

    async def test_a_token_without_a_type_is_refused(
        self, client: httpx.AsyncClient, settings: Settings, user: User
    ) -> None:
        token = jwt.encode(claims(user, type=None), settings.secret_key.get_secret_value(), algorithm="HS256")
        assert await status_with(client, token) == (401, "invalid_token")

    async def test_a_refresh_token_is_not_an_access_token(
        self, client: httpx.AsyncClient, settings: Settings, user: User
    ) -> None:
        token = jwt.encode(claims(user, type="refresh"), settings.secret_key.get_secret_value(), algorithm="HS256")
        assert await status_with(client, token) == (401, "invalid_token")

    async def test_an_expired_token_is_refused(self, client: httpx.AsyncClient, settings: Settings, user: User) -> None:
        past = int(time.time()) - 3600
        token = jwt.encode(
            claims(user, iat=past - 600, exp=past), settings.secret_key.get_secret_value(), algorithm="HS256"
        )
        assert await status_with(client, token) == (401, "token_expired")

    async def test_a_tampered_payload_is_refused(
        self, client: httpx.AsyncClient, settings: Settings, user: User
    ) -> None:
        token = jwt.encode(claims(user), settings.secret_key.get_secret_value(), algorithm="HS256")
        header, _, signature = token.split(".")
        other = b64(json.dumps(claims(user, sub=str(user.id + 1))).encode())
        assert await status_with(client, f"{header}.{other}.{signature}") == (401, "invalid_token")

    async def test_a_token_for_a_user_that_does_not_exist_is_refused(
        self, client: httpx.AsyncClient, settings: Settings, user: User
    ) -> None:
        token = jwt.encode(claims(user, sub="2147483000"), settings.secret_key.get_secret_value(), algorithm="HS256")
        assert await status_with(client, token) == (401, "invalid_token")


@pytest.fixture
def client_at(app: FastAPI) -> Any:
    """A client whose requests come from `address` (the rate limiter keys on the client address)."""

    def build(address: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        return httpx.AsyncClient(transport=transport, base_url="http://test")

    return build


@pytest.fixture
async def many_clients(client_at: Any) -> AsyncIterator[list[httpx.AsyncClient]]:
    clients = [client_at(f"10.0.0.{n}") for n in range(1, 13)]
    yield clients
    for c in clients:
        await c.aclose()


class TestLoginThrottling:
    async def test_the_same_email_from_many_addresses_is_throttled(
        self, many_clients: list[httpx.AsyncClient], settings: Settings, db: AsyncSession
    ) -> None:
        user = await make_user(db)
        limit = settings.login_attempts_per_minute
        body = {"email": user.email, "password": "wrong-password-1"}
        statuses = [(await many_clients[n].post(f"{API}/auth/login", json=body)).status_code for n in range(limit)]
        assert statuses == [401] * limit
        blocked = await many_clients[limit].post(f"{API}/auth/login", json=body)
        assert blocked.status_code == 429
        assert blocked.json()["error"]["code"] == "rate_limited"
        assert int(blocked.headers["Retry-After"]) >= 1
        # Even the right password waits: the attacker must not learn it by the answer changing.
        right = await many_clients[limit + 1].post(
            f"{API}/auth/login", json={"email": user.email, "password": DEFAULT_PASSWORD}
        )
        assert right.status_code == 429

    async def test_many_emails_from_one_address_are_throttled(self, client_at: Any, settings: Settings) -> None:
        limit = settings.login_attempts_per_minute
        async with client_at("10.9.9.9") as attacker, client_at("10.9.9.10") as bystander:
            for n in range(limit):
                body = {"email": f"guess{n}@example.edu", "password": "wrong-password-1"}
                assert (await attacker.post(f"{API}/auth/login", json=body)).status_code == 401
            body = {"email": "guess-last@example.edu", "password": "wrong-password-1"}
            blocked = await attacker.post(f"{API}/auth/login", json=body)
            assert blocked.status_code == 429
            assert int(blocked.headers["Retry-After"]) >= 1
            # Another address is not affected.
            assert (await bystander.post(f"{API}/auth/login", json=body)).status_code == 401

    async def test_the_oauth2_form_shares_the_limit(self, client_at: Any, settings: Settings) -> None:
        limit = settings.login_attempts_per_minute
        async with client_at("10.8.8.8") as attacker:
            for n in range(limit):
                form = {"username": f"form{n}@example.edu", "password": "wrong-password-1"}
                assert (await attacker.post(f"{API}/auth/token", data=form)).status_code == 401
            blocked = await attacker.post(f"{API}/auth/login", json={"email": "x@example.edu", "password": "nope-1234"})
            assert blocked.status_code == 429
            assert "Retry-After" in blocked.headers
