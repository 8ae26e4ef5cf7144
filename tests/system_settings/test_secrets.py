"""Secret settings: always encrypted at rest, never returned or logged, 503 without encryption keys."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from twosigma.app import create_app
from twosigma.config import Settings
from twosigma.db.engine import Database
from twosigma.system_settings.crypto import secret_box
from twosigma.system_settings.models import SystemSetting

Headers = dict[str, str]
BASE = "/api/v1/admin/settings"
SECRET = "sk-ant-api03-TOTALLY-SECRET-VALUE-a1b2"


async def stored_row(db: AsyncSession, key: str) -> SystemSetting:
    row = await db.scalar(select(SystemSetting).where(SystemSetting.setting_key == key))
    assert row is not None
    await db.refresh(row)
    return row


async def client_for(
    settings: Settings, db_engine: AsyncEngine, test_sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings=settings, database=Database(engine=db_engine, sessionmaker=test_sessionmaker))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        yield client


@pytest.fixture
async def keyless_client(
    settings: Settings, db_engine: AsyncEngine, test_sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with no TWOSIGMA_ENCRYPTION_KEYS."""
    async for client in client_for(settings.model_copy(update={"encryption_keys": []}), db_engine, test_sessionmaker):
        yield client


@pytest.fixture
async def other_key_client(
    settings: Settings, db_engine: AsyncEngine, test_sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with a different key than the one the secrets were written with."""
    other = settings.model_copy(update={"encryption_keys": [SecretStr(Fernet.generate_key().decode())]})
    async for client in client_for(other, db_engine, test_sessionmaker):
        yield client


class TestSecretKeys:
    async def test_secret_key_is_encrypted_at_rest_even_when_not_asked(
        self, client: httpx.AsyncClient, admin_headers: Headers, db: AsyncSession, settings: Settings
    ) -> None:
        response = await client.put(
            f"{BASE}/llm.anthropic_api_key", json={"value": SECRET, "is_encrypted": False}, headers=admin_headers
        )
        assert response.status_code == 200
        row = await stored_row(db, "llm.anthropic_api_key")
        assert row.is_encrypted is True
        assert row.setting_value is not None
        assert SECRET not in row.setting_value
        assert secret_box(settings).decrypt(row.setting_value) == f'"{SECRET}"'

    async def test_secret_is_answered_with_a_mask_of_its_last_four_characters(
        self, client: httpx.AsyncClient, admin_headers: Headers
    ) -> None:
        put = await client.put(f"{BASE}/llm.openai_api_key", json={"value": SECRET}, headers=admin_headers)
        got = await client.get(f"{BASE}/llm.openai_api_key", headers=admin_headers)
        listed = await client.get(BASE, headers=admin_headers)
        for body in (
            put.json(),
            got.json(),
            next(i for i in listed.json()["items"] if i["key"] == "llm.openai_api_key"),
        ):
            assert body["value"] == "••••a1b2"
            assert body["is_encrypted"] is True

    async def test_short_secret_shows_no_characters(self, client: httpx.AsyncClient, admin_headers: Headers) -> None:
        response = await client.put(f"{BASE}/llm.openai_api_key", json={"value": "abc123"}, headers=admin_headers)
        assert response.json()["value"] == "••••"

    async def test_non_secret_key_is_encrypted_on_request(
        self, client: httpx.AsyncClient, admin_headers: Headers, db: AsyncSession
    ) -> None:
        response = await client.put(
            f"{BASE}/llm.bedrock_access_key_id",
            json={"value": "AKIAEXAMPLE123456", "is_encrypted": True},
            headers=admin_headers,
        )
        assert response.json()["value"] == "••••3456"
        assert (await stored_row(db, "llm.bedrock_access_key_id")).is_encrypted is True

    async def test_plaintext_never_appears_in_a_response_or_a_log_record(
        self, client: httpx.AsyncClient, admin_headers: Headers, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG)
        bodies = [
            await client.put(f"{BASE}/llm.anthropic_api_key", json={"value": SECRET}, headers=admin_headers),
            await client.put(
                f"{BASE}/custom.token", json={"value": SECRET, "is_encrypted": True}, headers=admin_headers
            ),
            await client.get(f"{BASE}/llm.anthropic_api_key", headers=admin_headers),
            await client.get(f"{BASE}/custom.token", headers=admin_headers),
            await client.get(BASE, headers=admin_headers),
            await client.put(f"{BASE}/llm.anthropic_api_key", json={"value": 12}, headers=admin_headers),
            await client.delete(f"{BASE}/custom.token", headers=admin_headers),
        ]
        assert [r.status_code for r in bodies] == [200, 200, 200, 200, 200, 422, 204]
        for response in bodies:
            assert SECRET not in response.text
        assert caplog.records, "expected the app to log something at DEBUG"
        for record in caplog.records:
            assert SECRET not in record.getMessage()
            assert SECRET not in str(record.args)


class TestWithoutEncryptionKeys:
    async def test_secret_write_is_503_and_nothing_is_stored(
        self, keyless_client: httpx.AsyncClient, admin_headers: Headers, db: AsyncSession
    ) -> None:
        response = await keyless_client.put(f"{BASE}/llm.openai_api_key", json={"value": SECRET}, headers=admin_headers)
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "encryption_not_configured"
        assert await db.scalar(select(SystemSetting).where(SystemSetting.setting_key == "llm.openai_api_key")) is None

    async def test_plain_settings_still_work(self, keyless_client: httpx.AsyncClient, admin_headers: Headers) -> None:
        response = await keyless_client.put(f"{BASE}/llm.provider", json={"value": "openai"}, headers=admin_headers)
        assert response.status_code == 200

    async def test_list_masks_a_secret_it_cannot_decrypt(
        self,
        client: httpx.AsyncClient,
        other_key_client: httpx.AsyncClient,
        keyless_client: httpx.AsyncClient,
        admin_headers: Headers,
    ) -> None:
        await client.put(f"{BASE}/llm.openai_api_key", json={"value": SECRET}, headers=admin_headers)
        for other in (other_key_client, keyless_client):
            response = await other.get(f"{BASE}/llm.openai_api_key", headers=admin_headers)
            assert response.status_code == 200
            assert response.json()["value"] == "••••"
