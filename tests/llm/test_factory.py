"""Choosing and caching providers from the effective settings; Retry-After parsing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import openai
import pytest

from tests.fakes import FakeAnthropic, FakeOpenAI
from tests.llm.conftest import anthropic_settings, openai_settings
from twosigma.llm.anthropic_provider import Defaults
from twosigma.llm.errors import DEFAULT_RETRY_AFTER, LLMNotConfigured, retry_after_seconds
from twosigma.llm.factory import DEFAULT_MODELS, ProviderRegistry
from twosigma.llm.openai_provider import OpenAIProvider
from twosigma.llm.types import LLMMessage, LLMRequest
from twosigma.system_settings.effective import EffectiveSettings


class TestProviderChoice:
    @pytest.mark.parametrize(
        ("values", "fragment"),
        [
            ({}, "No LLM provider is configured"),
            ({"llm_provider": "anthropic"}, "llm.anthropic_api_key is not set"),
            ({"llm_provider": "openai"}, "llm.openai_api_key is not set"),
            ({"llm_provider": "bedrock"}, "llm.bedrock_region is not set"),
            (
                {"llm_provider": "bedrock", "llm_bedrock_region": "eu-west-1", "llm_bedrock_access_key_id": "AKIA"},
                "or neither",
            ),
        ],
    )
    def test_missing_provider_or_credentials_is_503_llm_not_configured(
        self, registry: ProviderRegistry, values: dict[str, str], fragment: str
    ) -> None:
        with pytest.raises(LLMNotConfigured) as caught:
            registry.provider(EffectiveSettings(**values))  # type: ignore[arg-type]
        assert (caught.value.status_code, caught.value.error_code) == (503, "llm_not_configured")
        assert fragment in caught.value.message

    def test_each_provider_has_a_default_model(self, registry: ProviderRegistry, fake_anthropic: FakeAnthropic) -> None:
        provider = registry.provider(anthropic_settings(fake_anthropic))
        assert (provider.name, provider.default_model) == ("anthropic", DEFAULT_MODELS["anthropic"])

    def test_configured_default_model_wins(self, registry: ProviderRegistry, fake_openai: FakeOpenAI) -> None:
        provider = registry.provider(openai_settings(fake_openai, llm_default_model="my-model"))
        assert provider.default_model == "my-model"


class TestClientCache:
    def test_same_config_reuses_the_client(self, registry: ProviderRegistry, fake_anthropic: FakeAnthropic) -> None:
        registry.provider(anthropic_settings(fake_anthropic))
        registry.provider(anthropic_settings(fake_anthropic, llm_default_model="other", llm_max_tokens=5))
        assert registry.client_count == 1

    def test_a_new_key_builds_a_new_client(self, registry: ProviderRegistry, fake_anthropic: FakeAnthropic) -> None:
        registry.provider(anthropic_settings(fake_anthropic))
        registry.provider(anthropic_settings(fake_anthropic, llm_anthropic_api_key="sk-rotated-key"))
        assert registry.client_count == 2

    async def test_old_clients_are_evicted_past_the_limit(self, fake_openai: FakeOpenAI) -> None:
        registry = ProviderRegistry(max_clients=2)
        for n in range(4):
            registry.provider(openai_settings(fake_openai, llm_openai_api_key=f"sk-{n}"))
        assert registry.client_count == 2
        await registry.aclose()
        assert registry.client_count == 0


class TestOpenAITokenField:
    def test_official_endpoint_gets_max_completion_tokens(self) -> None:
        client = openai.AsyncOpenAI(api_key="sk-x", base_url="http://127.0.0.1:9/v1")
        provider = OpenAIProvider(client, defaults=Defaults("m", 0.7, 10), official_endpoint=True)
        arguments = provider._arguments(LLMRequest(messages=[LLMMessage("user", "hi")]))
        assert arguments["max_completion_tokens"] == 10
        assert "max_tokens" not in arguments


class TestRetryAfter:
    def test_seconds_are_read(self) -> None:
        assert retry_after_seconds({"retry-after": "12"}) == 12

    def test_milliseconds_are_rounded_up(self) -> None:
        assert retry_after_seconds({"retry-after-ms": "1500"}) == 2

    def test_an_http_date_becomes_seconds_from_now(self) -> None:
        when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
        assert 25 <= retry_after_seconds({"Retry-After": when}) <= 31

    @pytest.mark.parametrize("headers", [None, {}, {"retry-after": "soon"}])
    def test_absent_or_unreadable_gives_the_default(self, headers: dict[str, str] | None) -> None:
        assert retry_after_seconds(headers) == DEFAULT_RETRY_AFTER
