"""POST /api/v1/admin/llm/test: the configured provider answers a one-line prompt."""

from __future__ import annotations

import logging

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fakes import FakeAnthropic, FakeOpenAI, Mode
from tests.fixtures.factories import auth_headers, make_member, make_university
from twosigma.config import Settings
from twosigma.enums import UserRole

Headers = dict[str, str]
URL = "/api/v1/admin/llm/test"
SETTINGS = "/api/v1/admin/settings"
SECRET_KEY = "sk-ant-admin-check-SECRET-9f8e7d6c"

pytestmark = pytest.mark.usefixtures("close_llm_clients")


@pytest.fixture
async def admin_headers(db: AsyncSession, settings: Settings) -> Headers:
    return auth_headers(settings, await make_member(db, await make_university(db), UserRole.PLATFORM_ADMIN))


async def configure_anthropic(client: httpx.AsyncClient, headers: Headers, fake: FakeAnthropic) -> None:
    for key, value in (
        ("llm.provider", "anthropic"),
        ("llm.anthropic_api_key", SECRET_KEY),
        ("llm.anthropic_base_url", fake.url),
        ("llm.default_model", "claude-check"),
    ):
        response = await client.put(f"{SETTINGS}/{key}", json={"value": value}, headers=headers)
        assert response.status_code == 200, response.text


class TestLLMCheck:
    async def test_stored_settings_drive_the_call_and_the_answer_is_reported(
        self, client: httpx.AsyncClient, admin_headers: Headers, fake_anthropic: FakeAnthropic
    ) -> None:
        await configure_anthropic(client, admin_headers, fake_anthropic)
        response = await client.post(URL, headers=admin_headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["provider"] == "anthropic"
        assert body["model"] == "claude-check"
        assert body["text"] == "Hello from the fake tutor."
        assert body["usage"] == {"input_tokens": 42, "output_tokens": 7}
        assert body["stop_reason"] == "end_turn"
        assert isinstance(body["latency_ms"], int)
        assert SECRET_KEY in fake_anthropic.last_request.headers.get("authorization", "") + str(
            fake_anthropic.last_request.headers.get("x-api-key")
        )

    async def test_environment_variables_configure_a_provider_when_nothing_is_stored(
        self,
        client: httpx.AsyncClient,
        admin_headers: Headers,
        fake_openai: FakeOpenAI,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setenv("TWOSIGMA_LLM_PROVIDER", "openai")
        monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env-0123456789")
        monkeypatch.setenv("TWOSIGMA_LLM_OPENAI_BASE_URL", f"{fake_openai.url}/v1")
        response = await client.post(URL, headers=admin_headers)
        assert response.status_code == 200, response.text
        assert response.json()["provider"] == "openai"
        assert fake_openai.last_request.headers["authorization"] == "Bearer sk-from-env-0123456789"

    async def test_a_settings_change_takes_effect_on_the_next_request(
        self, client: httpx.AsyncClient, admin_headers: Headers, fake_anthropic: FakeAnthropic
    ) -> None:
        await configure_anthropic(client, admin_headers, fake_anthropic)
        assert (await client.post(URL, headers=admin_headers)).json()["model"] == "claude-check"
        await client.put(f"{SETTINGS}/llm.default_model", json={"value": "claude-next"}, headers=admin_headers)
        assert (await client.post(URL, headers=admin_headers)).json()["model"] == "claude-next"

    async def test_no_provider_is_503_llm_not_configured(
        self, client: httpx.AsyncClient, admin_headers: Headers
    ) -> None:
        response = await client.post(URL, headers=admin_headers)
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "llm_not_configured"

    async def test_provider_rate_limit_is_503_with_retry_after(
        self, client: httpx.AsyncClient, admin_headers: Headers, fake_anthropic: FakeAnthropic
    ) -> None:
        await configure_anthropic(client, admin_headers, fake_anthropic)
        fake_anthropic.script(mode=Mode.RATE_LIMITED, retry_after="11")
        response = await client.post(URL, headers=admin_headers)
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "llm_rate_limited"
        assert response.headers["retry-after"] == "11"

    async def test_provider_failure_is_502_llm_error(
        self, client: httpx.AsyncClient, admin_headers: Headers, fake_anthropic: FakeAnthropic
    ) -> None:
        await configure_anthropic(client, admin_headers, fake_anthropic)
        fake_anthropic.script(mode=Mode.CUT)
        response = await client.post(URL, headers=admin_headers)
        assert response.status_code == 502
        assert response.json()["error"]["code"] == "llm_error"

    async def test_the_api_key_never_appears_in_a_response_or_a_log_record(
        self,
        client: httpx.AsyncClient,
        admin_headers: Headers,
        fake_anthropic: FakeAnthropic,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        caplog.set_level(logging.DEBUG)
        await configure_anthropic(client, admin_headers, fake_anthropic)
        responses = [
            await client.post(URL, headers=admin_headers),
            await client.get(SETTINGS, headers=admin_headers),
            await client.get(f"{SETTINGS}/llm.anthropic_api_key", headers=admin_headers),
        ]
        fake_anthropic.script(mode=Mode.ERROR, status=401)
        responses.append(await client.post(URL, headers=admin_headers))
        assert [r.status_code for r in responses] == [200, 200, 200, 502]
        for response in responses:
            assert SECRET_KEY not in response.text
        assert {r.name.split(".")[0] for r in caplog.records} >= {"anthropic", "twosigma"}  # really at DEBUG
        for record in caplog.records:
            assert SECRET_KEY not in record.getMessage()
            assert SECRET_KEY not in str(record.args)


class TestAccess:
    async def test_anonymous_caller_gets_401(self, client: httpx.AsyncClient) -> None:
        assert (await client.post(URL)).status_code == 401

    async def test_university_admin_gets_403(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        headers = auth_headers(settings, await make_member(db, await make_university(db), UserRole.UNIVERSITY_ADMIN))
        assert (await client.post(URL, headers=headers)).status_code == 403
