"""The real SDKs (anthropic, anthropic-bedrock, openai) against protocol-faithful fakes, in every mode."""

from __future__ import annotations

import socket

import pytest

from tests.fakes import FakeAnthropic, FakeBedrock, FakeOpenAI, Mode
from tests.llm.conftest import (
    ANTHROPIC_KEY,
    AWS_ACCESS_KEY,
    OPENAI_KEY,
    Target,
    anthropic_settings,
    bedrock_settings,
    openai_settings,
)
from twosigma.llm.errors import LLMError, LLMFailure, LLMRateLimited
from twosigma.llm.factory import ProviderRegistry
from twosigma.llm.types import Completed, LLMEvent, LLMMessage, LLMRequest, TextDelta, Usage

REQUEST = LLMRequest(
    system="You are a patient tutor.",
    messages=[
        LLMMessage("user", "What is a derivative?"),
        LLMMessage("assistant", "A rate of change."),
        LLMMessage("user", "Show me one."),
    ],
    model="model-under-test",
    temperature=0.3,
    max_tokens=222,
)


async def collect(registry: ProviderRegistry, target: Target, request: LLMRequest = REQUEST) -> list[LLMEvent]:
    provider = registry.provider(target.settings)
    return [event async for event in provider.stream(request)]


async def collect_until_failure(registry: ProviderRegistry, target: Target) -> tuple[list[str], LLMFailure]:
    """The text that arrived before the stream failed, and the failure."""
    texts: list[str] = []

    async def consume() -> None:
        async for event in registry.provider(target.settings).stream(REQUEST):
            if isinstance(event, TextDelta):
                texts.append(event.text)

    with pytest.raises(LLMFailure) as caught:
        await consume()
    return texts, caught.value


class TestNormalStream:
    async def test_text_deltas_arrive_in_order_then_one_completed_with_usage(
        self, registry: ProviderRegistry, target: Target
    ) -> None:
        events = await collect(registry, target)
        assert [e.text for e in events if isinstance(e, TextDelta)] == ["Hello", " from", " the", " fake", " tutor."]
        assert events[-1] == Completed(model="model-under-test", stop_reason="end_turn", usage=Usage(42, 7))
        assert sum(isinstance(e, Completed) for e in events) == 1

    async def test_max_tokens_stop_reason_is_reported_in_one_vocabulary(
        self, registry: ProviderRegistry, target: Target
    ) -> None:
        target.fake.script(stop_reason="max_tokens")
        events = await collect(registry, target)
        assert isinstance(events[-1], Completed)
        assert events[-1].stop_reason == "max_tokens"

    async def test_slow_stream_still_completes(self, registry: ProviderRegistry, target: Target) -> None:
        target.fake.script(mode=Mode.SLOW, delay=0.02)
        events = await collect(registry, target)
        assert isinstance(events[-1], Completed)
        assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Hello from the fake tutor."


class TestWhatTheProviderReceives:
    async def test_anthropic_gets_system_model_max_tokens_messages_and_key(
        self, registry: ProviderRegistry, fake_anthropic: FakeAnthropic
    ) -> None:
        target = Target("anthropic", fake_anthropic, anthropic_settings(fake_anthropic))
        await collect(registry, target)
        sent = target.fake.last_request
        body = sent.json()
        assert sent.path == "/v1/messages"
        # Older SDKs send x-api-key, the 2.x SDK a bearer token.
        sent_key = sent.headers.get("x-api-key") or sent.headers["authorization"].removeprefix("Bearer ")
        assert sent_key == ANTHROPIC_KEY
        assert body["system"] == "You are a patient tutor."
        assert body["model"] == "model-under-test"
        assert "temperature" not in body  # the Messages API has no sampling parameters any more
        assert body["max_tokens"] == 222
        assert body["stream"] is True
        assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]

    async def test_bedrock_gets_the_model_in_the_path_and_a_sigv4_signature(
        self, registry: ProviderRegistry, fake_bedrock: FakeBedrock
    ) -> None:
        target = Target("bedrock", fake_bedrock, bedrock_settings(fake_bedrock))
        await collect(registry, target)
        sent = target.fake.last_request
        body = sent.json()
        assert sent.path == "/model/model-under-test/invoke-with-response-stream"
        assert sent.headers["authorization"].startswith(f"AWS4-HMAC-SHA256 Credential={AWS_ACCESS_KEY}/")
        assert "/us-east-1/bedrock/aws4_request" in sent.headers["authorization"]
        assert body["anthropic_version"]  # Bedrock takes the API version in the body
        assert body["system"] == "You are a patient tutor."
        assert "temperature" not in body
        assert body["max_tokens"] == 222
        assert "model" not in body

    async def test_openai_gets_the_system_message_first_and_asks_for_usage(
        self, registry: ProviderRegistry, fake_openai: FakeOpenAI
    ) -> None:
        target = Target("openai", fake_openai, openai_settings(fake_openai))
        await collect(registry, target)
        sent = target.fake.last_request
        body = sent.json()
        assert sent.path == "/v1/chat/completions"
        assert sent.headers["authorization"] == f"Bearer {OPENAI_KEY}"
        assert body["messages"][0] == {"role": "system", "content": "You are a patient tutor."}
        assert [m["role"] for m in body["messages"][1:]] == ["user", "assistant", "user"]
        assert body["model"] == "model-under-test"
        assert body["temperature"] == 0.3
        assert body["max_tokens"] == 222  # a custom base URL: the widely supported field
        assert body["stream_options"] == {"include_usage": True}

    async def test_settings_supply_model_temperature_and_max_tokens_the_request_leaves_out(
        self, registry: ProviderRegistry, target: Target
    ) -> None:
        target.settings = target.with_settings(
            llm_default_model="configured-model", llm_temperature=1.1, llm_max_tokens=99
        )
        events = await collect(registry, target, LLMRequest(messages=[LLMMessage("user", "hi")]))
        assert isinstance(events[-1], Completed)
        assert events[-1].model == "configured-model"
        body = target.fake.last_request.json()
        assert body.get("temperature", 1.1) == 1.1  # sent to OpenAI-compatible APIs only
        assert body["max_tokens"] == 99
        assert "system" not in body
        assert target.fake.last_request.path in (
            "/v1/messages",
            "/v1/chat/completions",
            "/model/configured-model/invoke-with-response-stream",
        )


class TestFailures:
    async def test_server_error_is_llm_error_502(self, registry: ProviderRegistry, target: Target) -> None:
        target.fake.script(mode=Mode.ERROR, status=500)
        texts, error = await collect_until_failure(registry, target)
        assert texts == []
        assert isinstance(error, LLMError)
        assert (error.status_code, error.error_code) == (502, "llm_error")

    async def test_rate_limit_is_503_llm_rate_limited_with_the_providers_retry_after(
        self, registry: ProviderRegistry, target: Target
    ) -> None:
        target.fake.script(mode=Mode.RATE_LIMITED, retry_after="7")
        _, error = await collect_until_failure(registry, target)
        assert isinstance(error, LLMRateLimited)
        assert (error.status_code, error.error_code) == (503, "llm_rate_limited")
        assert error.headers["Retry-After"] == "7"

    async def test_rejected_credentials_are_llm_error(self, registry: ProviderRegistry, target: Target) -> None:
        target.fake.script(mode=Mode.ERROR, status=401)
        _, error = await collect_until_failure(registry, target)
        assert isinstance(error, LLMError)
        assert "credentials" in error.message

    async def test_stream_cut_mid_answer_raises_after_the_text_received_so_far(
        self, registry: ProviderRegistry, target: Target
    ) -> None:
        target.fake.script(mode=Mode.CUT, cut_after=2)
        texts, error = await collect_until_failure(registry, target)
        assert texts == ["Hello", " from"]
        assert isinstance(error, LLMError)

    async def test_malformed_event_raises_llm_error_after_the_good_ones(
        self, registry: ProviderRegistry, target: Target
    ) -> None:
        target.fake.script(mode=Mode.MALFORMED)
        texts, error = await collect_until_failure(registry, target)
        assert texts == ["Hello"]
        assert isinstance(error, LLMError)

    async def test_error_event_inside_the_stream_raises_llm_error(
        self, registry: ProviderRegistry, target: Target
    ) -> None:
        target.fake.script(mode=Mode.STREAM_ERROR, cut_after=2)
        texts, error = await collect_until_failure(registry, target)
        assert texts == ["Hello", " from"]
        assert isinstance(error, LLMError)

    async def test_silence_past_the_timeout_is_llm_error(self, registry: ProviderRegistry, target: Target) -> None:
        target.fake.script(mode=Mode.SLOW, delay=1.0)
        target.settings = target.with_settings(llm_timeout_seconds=0.2)
        _, error = await collect_until_failure(registry, target)
        assert isinstance(error, LLMError)
        assert "in time" in error.message

    async def test_unreachable_provider_is_llm_error(self, registry: ProviderRegistry, target: Target) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            closed_port = probe.getsockname()[1]
        url = f"http://127.0.0.1:{closed_port}"
        field = {
            "anthropic": "llm_anthropic_base_url",
            "openai": "llm_openai_base_url",
            "bedrock": "llm_bedrock_base_url",
        }
        target.settings = target.with_settings(**{field[target.name]: url})
        _, error = await collect_until_failure(registry, target)
        assert isinstance(error, LLMError)
        assert "could not be reached" in error.message
