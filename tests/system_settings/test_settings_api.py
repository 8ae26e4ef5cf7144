"""/api/v1/admin/settings: CRUD, schema, validation, access."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.system_settings.models import SystemSetting

Headers = dict[str, str]
BASE = "/api/v1/admin/settings"


async def stored_row(db: AsyncSession, key: str) -> SystemSetting | None:
    row: SystemSetting | None = await db.scalar(select(SystemSetting).where(SystemSetting.setting_key == key))
    if row is not None:
        await db.refresh(row)
    return row


class TestPutSetting:
    async def test_known_key_is_stored_as_json_and_returned_typed(
        self, client: httpx.AsyncClient, admin_headers: Headers, db: AsyncSession
    ) -> None:
        response = await client.put(
            f"{BASE}/llm.temperature", json={"value": 0.2, "description": "cooler"}, headers=admin_headers
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["key"] == "llm.temperature"
        assert body["value"] == 0.2
        assert body["is_encrypted"] is False
        assert body["is_known"] is True
        assert body["description"] == "cooler"
        row = await stored_row(db, "llm.temperature")
        assert row is not None
        assert row.setting_value == "0.2"

    async def test_numeric_string_is_coerced_to_the_keys_type(
        self, client: httpx.AsyncClient, admin_headers: Headers
    ) -> None:
        response = await client.put(f"{BASE}/llm.max_tokens", json={"value": "2048"}, headers=admin_headers)
        assert response.status_code == 200
        assert response.json()["value"] == 2048

    async def test_second_put_replaces_the_value_and_keeps_the_description(
        self, client: httpx.AsyncClient, admin_headers: Headers
    ) -> None:
        await client.put(f"{BASE}/llm.provider", json={"value": "openai", "description": "d"}, headers=admin_headers)
        response = await client.put(f"{BASE}/llm.provider", json={"value": "anthropic"}, headers=admin_headers)
        assert response.json()["value"] == "anthropic"
        assert response.json()["description"] == "d"

    async def test_unknown_key_outside_reserved_namespaces_takes_any_json_value(
        self, client: httpx.AsyncClient, admin_headers: Headers
    ) -> None:
        value = {"banner": "Welcome", "colors": [1, 2]}
        response = await client.put(f"{BASE}/ui.home", json={"value": value}, headers=admin_headers)
        assert response.status_code == 200
        assert response.json()["value"] == value
        assert response.json()["is_known"] is False
        fetched = await client.get(f"{BASE}/ui.home", headers=admin_headers)
        assert fetched.json()["value"] == value

    @pytest.mark.parametrize(
        ("key", "value", "fragment"),
        [
            ("llm.temperature", 2.5, "at most 2"),
            ("llm.temperature", "warm", "must be a number"),
            ("llm.max_tokens", 0, "at least 1"),
            ("llm.max_tokens", 1.5, "must be an integer"),
            ("llm.max_tokens", True, "must be an integer"),
            ("llm.timeout_seconds", 0, "greater than 0"),
            ("llm.provider", "mistral", "one of: anthropic, bedrock, openai"),
            ("llm.openai_base_url", "ftp://x", "http(s) URL"),
            ("tutor.default_prompt_name", "  ", "must not be empty"),
            ("tutor.history_token_budget", "lots", "must be an integer"),
            ("llm.temprature", 0.5, "Unknown setting 'llm.temprature'"),
            ("ui.banner", None, "cannot be null"),
        ],
    )
    async def test_invalid_value_is_422_with_a_clear_message(
        self, client: httpx.AsyncClient, admin_headers: Headers, key: str, value: object, fragment: str
    ) -> None:
        response = await client.put(f"{BASE}/{key}", json={"value": value}, headers=admin_headers)
        assert response.status_code == 422
        error = response.json()["error"]
        assert error["code"] == "validation_error"
        assert fragment in error["message"]

    async def test_malformed_key_is_422(self, client: httpx.AsyncClient, admin_headers: Headers) -> None:
        response = await client.put(f"{BASE}/Has Spaces", json={"value": "x"}, headers=admin_headers)
        assert response.status_code == 422
        assert response.json()["error"]["details"][0]["loc"] == ["path", "key"]

    async def test_missing_value_is_422(self, client: httpx.AsyncClient, admin_headers: Headers) -> None:
        response = await client.put(f"{BASE}/llm.provider", json={"description": "x"}, headers=admin_headers)
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "validation_error"

    async def test_unknown_body_field_is_422(self, client: httpx.AsyncClient, admin_headers: Headers) -> None:
        response = await client.put(f"{BASE}/llm.provider", json={"value": "openai", "x": 1}, headers=admin_headers)
        assert response.status_code == 422


class TestGetAndListSettings:
    async def test_list_returns_every_stored_setting_ordered_by_key(
        self, client: httpx.AsyncClient, admin_headers: Headers
    ) -> None:
        await client.put(f"{BASE}/tutor.tokens_per_day", json={"value": 5000}, headers=admin_headers)
        await client.put(f"{BASE}/llm.provider", json={"value": "openai"}, headers=admin_headers)
        response = await client.get(BASE, headers=admin_headers)
        assert response.status_code == 200
        keys = [item["key"] for item in response.json()["items"]]
        assert keys == sorted(keys)
        assert {"llm.provider", "tutor.tokens_per_day"} <= set(keys)

    async def test_get_returns_one_setting(self, client: httpx.AsyncClient, admin_headers: Headers) -> None:
        await client.put(f"{BASE}/tutor.messages_per_minute", json={"value": 3}, headers=admin_headers)
        response = await client.get(f"{BASE}/tutor.messages_per_minute", headers=admin_headers)
        assert response.status_code == 200
        assert response.json()["value"] == 3

    async def test_get_of_a_key_never_stored_is_404(self, client: httpx.AsyncClient, admin_headers: Headers) -> None:
        response = await client.get(f"{BASE}/llm.default_model", headers=admin_headers)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "setting_not_found"


class TestDeleteSetting:
    async def test_delete_removes_the_setting(self, client: httpx.AsyncClient, admin_headers: Headers) -> None:
        await client.put(f"{BASE}/llm.default_model", json={"value": "m"}, headers=admin_headers)
        response = await client.delete(f"{BASE}/llm.default_model", headers=admin_headers)
        assert response.status_code == 204
        assert response.content == b""
        assert (await client.get(f"{BASE}/llm.default_model", headers=admin_headers)).status_code == 404

    async def test_delete_of_a_missing_key_is_404(self, client: httpx.AsyncClient, admin_headers: Headers) -> None:
        response = await client.delete(f"{BASE}/nothing.here", headers=admin_headers)
        assert response.status_code == 404


class TestSettingsSchema:
    async def test_schema_lists_every_known_key_with_type_default_secrecy_and_env_vars(
        self, client: httpx.AsyncClient, admin_headers: Headers
    ) -> None:
        response = await client.get(f"{BASE}/schema", headers=admin_headers)
        assert response.status_code == 200
        entries = {entry["key"]: entry for entry in response.json()["items"]}
        assert {
            "llm.provider",
            "llm.anthropic_api_key",
            "llm.anthropic_base_url",
            "llm.bedrock_region",
            "llm.bedrock_access_key_id",
            "llm.bedrock_secret_access_key",
            "llm.openai_api_key",
            "llm.openai_base_url",
            "llm.default_model",
            "llm.temperature",
            "llm.max_tokens",
            "llm.timeout_seconds",
            "tutor.default_prompt_name",
            "tutor.history_token_budget",
            "tutor.messages_per_minute",
            "tutor.tokens_per_day",
        } <= set(entries)
        assert entries["llm.anthropic_api_key"]["secret"] is True
        assert entries["llm.anthropic_api_key"]["env_vars"] == ["TWOSIGMA_LLM_ANTHROPIC_API_KEY", "ANTHROPIC_API_KEY"]
        assert entries["tutor.default_prompt_name"]["default"] == "General Protocol"
        assert entries["tutor.history_token_budget"]["default"] == 8000
        assert entries["llm.temperature"]["type"] == "float"
        assert entries["llm.temperature"]["maximum"] == 2
        assert entries["llm.provider"]["choices"] == ["anthropic", "bedrock", "openai"]
        assert entries["llm.provider"]["secret"] is False


ROUTES = [
    ("GET", BASE, None),
    ("GET", f"{BASE}/schema", None),
    ("GET", f"{BASE}/llm.provider", None),
    ("PUT", f"{BASE}/llm.provider", {"value": "openai"}),
    ("DELETE", f"{BASE}/llm.provider", None),
]


class TestAccess:
    @pytest.mark.parametrize(("method", "url", "body"), ROUTES)
    async def test_anonymous_caller_gets_401(
        self, client: httpx.AsyncClient, method: str, url: str, body: object
    ) -> None:
        response = await client.request(method, url, json=body)
        assert response.status_code == 401

    @pytest.mark.parametrize(("method", "url", "body"), ROUTES)
    async def test_invalid_token_gets_401(self, client: httpx.AsyncClient, method: str, url: str, body: object) -> None:
        response = await client.request(method, url, json=body, headers={"Authorization": "Bearer nope"})
        assert response.status_code == 401

    @pytest.mark.parametrize(("method", "url", "body"), ROUTES)
    async def test_university_admin_gets_403(
        self, client: httpx.AsyncClient, university_admin_headers: Headers, method: str, url: str, body: object
    ) -> None:
        response = await client.request(method, url, json=body, headers=university_admin_headers)
        assert response.status_code == 403

    async def test_refused_write_changes_nothing(
        self, client: httpx.AsyncClient, university_admin_headers: Headers, db: AsyncSession
    ) -> None:
        await client.put(f"{BASE}/llm.provider", json={"value": "openai"}, headers=university_admin_headers)
        assert await stored_row(db, "llm.provider") is None
