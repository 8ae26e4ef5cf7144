"""/api/v1/api-keys and HTTP Basic authentication with an API key."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.factories import auth_headers, make_member, make_university
from tests.fixtures.prompts import basic_auth, make_api_key, platform_admin
from twosigma.api_keys.models import ApiKey
from twosigma.config import Settings
from twosigma.enums import UserRole

KEYS = "/api/v1/api-keys"
PUBLIC = "/api/public/v2/prompts"


class TestCreateApiKey:
    async def test_platform_admin_gets_both_keys_once(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        response = await client.post(KEYS, json={"name": "ci"}, headers=await platform_admin(db, settings))
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["public_key"].startswith("pk-lf-")
        assert body["secret_key"].startswith("sk-lf-")
        stored = await db.scalar(select(ApiKey).where(ApiKey.id == body["id"]))
        assert stored is not None
        assert body["secret_key"] not in stored.secret_hash
        assert len(stored.secret_hash) == 64

    async def test_the_new_key_authenticates(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        body = (await client.post(KEYS, json={"name": "ci"}, headers=await platform_admin(db, settings))).json()
        response = await client.get(PUBLIC, headers=basic_auth(body["public_key"], body["secret_key"]))
        assert response.status_code == 200

    async def test_empty_name_is_a_validation_error(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        response = await client.post(KEYS, json={"name": ""}, headers=await platform_admin(db, settings))
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "validation_error"

    async def test_without_a_token_is_401(self, client: httpx.AsyncClient) -> None:
        assert (await client.post(KEYS, json={"name": "x"})).status_code == 401

    async def test_a_university_admin_is_forbidden(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        admin = await make_member(db, await make_university(db), UserRole.UNIVERSITY_ADMIN)
        response = await client.post(KEYS, json={"name": "x"}, headers=auth_headers(settings, admin))
        assert response.status_code == 403


class TestListAndRevoke:
    async def test_list_never_shows_the_secret(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        headers = await platform_admin(db, settings)
        await client.post(KEYS, json={"name": "listed"}, headers=headers)
        response = await client.get(KEYS, headers=headers)
        assert response.status_code == 200
        page = response.json()
        assert "listed" in [k["name"] for k in page["items"]]
        assert all("secret_key" not in k and "secret_hash" not in k for k in page["items"])

    async def test_listing_needs_a_platform_admin(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        ta = await make_member(db, await make_university(db), UserRole.TA)
        assert (await client.get(KEYS, headers=auth_headers(settings, ta))).status_code == 403
        assert (await client.get(KEYS)).status_code == 401

    async def test_revoked_key_stops_working_at_once(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        key_id, basic = await make_api_key(db, settings)
        assert (await client.get(PUBLIC, headers=basic)).status_code == 200
        response = await client.delete(f"{KEYS}/{key_id}", headers=await platform_admin(db, settings))
        assert response.status_code == 204
        revoked = await client.get(PUBLIC, headers=basic)
        assert revoked.status_code == 401
        assert revoked.json()["error"]["code"] == "invalid_api_key"

    async def test_revoking_an_unknown_key_is_404(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        response = await client.delete(f"{KEYS}/999999", headers=await platform_admin(db, settings))
        assert response.status_code == 404

    async def test_revoking_needs_a_platform_admin(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        key_id, _ = await make_api_key(db, settings)
        instructor = await make_member(db, await make_university(db), UserRole.INSTRUCTOR)
        assert (await client.delete(f"{KEYS}/{key_id}", headers=auth_headers(settings, instructor))).status_code == 403


class TestBasicAuth:
    async def test_missing_credentials_are_401_with_a_basic_challenge(self, client: httpx.AsyncClient) -> None:
        response = await client.get(PUBLIC)
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Basic")

    async def test_wrong_secret_is_401(self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings) -> None:
        key_id, _ = await make_api_key(db, settings)
        key = await db.get(ApiKey, key_id)
        assert key is not None
        assert (await client.get(PUBLIC, headers=basic_auth(key.public_key, "sk-lf-wrong"))).status_code == 401

    async def test_unknown_public_key_is_401(self, client: httpx.AsyncClient) -> None:
        assert (await client.get(PUBLIC, headers=basic_auth("pk-lf-nobody", "sk-lf-x"))).status_code == 401

    async def test_malformed_header_is_401(self, client: httpx.AsyncClient) -> None:
        for value in ("Basic !!!", "Basic " + "bm9jb2xvbg==", "Bearer abc"):
            assert (await client.get(PUBLIC, headers={"Authorization": value})).status_code == 401

    async def test_use_is_recorded(self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings) -> None:
        key_id, basic = await make_api_key(db, settings)
        await client.get(PUBLIC, headers=basic)
        key = await db.get(ApiKey, key_id)
        assert key is not None
        await db.refresh(key)
        assert key.last_used_at is not None
