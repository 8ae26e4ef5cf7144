"""Providers wired to the fakes, and a clean environment (no real provider keys leak into the tests)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI

from tests.fakes import FakeAnthropic, FakeBedrock, FakeLLMServer, FakeOpenAI
from twosigma.kit.state import state_of
from twosigma.llm.factory import ProviderRegistry
from twosigma.system_settings.effective import EffectiveSettings
from twosigma.system_settings.registry import KNOWN_SETTINGS

ANTHROPIC_KEY = "sk-ant-test-key-0123456789"
OPENAI_KEY = "sk-openai-test-key-0123456789"
AWS_ACCESS_KEY = "AKIATESTACCESSKEY"
AWS_SECRET = "aws-secret-test-0123456789"


@pytest.fixture(autouse=True)
def _no_provider_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for spec in KNOWN_SETTINGS.values():
        for name in spec.env_vars:
            monkeypatch.delenv(name, raising=False)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_BEARER_TOKEN_BEDROCK", "ANTHROPIC_BEDROCK_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def anthropic_settings(fake: FakeAnthropic, **overrides: object) -> EffectiveSettings:
    values: dict[str, object] = {
        "llm_provider": "anthropic",
        "llm_anthropic_api_key": ANTHROPIC_KEY,
        "llm_anthropic_base_url": fake.url,
        "llm_timeout_seconds": 5.0,
    }
    return EffectiveSettings(**(values | overrides))  # type: ignore[arg-type]


def openai_settings(fake: FakeOpenAI, **overrides: object) -> EffectiveSettings:
    values: dict[str, object] = {
        "llm_provider": "openai",
        "llm_openai_api_key": OPENAI_KEY,
        "llm_openai_base_url": f"{fake.url}/v1",
        "llm_timeout_seconds": 5.0,
    }
    return EffectiveSettings(**(values | overrides))  # type: ignore[arg-type]


def bedrock_settings(fake: FakeBedrock, **overrides: object) -> EffectiveSettings:
    values: dict[str, object] = {
        "llm_provider": "bedrock",
        "llm_bedrock_region": "us-east-1",
        "llm_bedrock_access_key_id": AWS_ACCESS_KEY,
        "llm_bedrock_secret_access_key": AWS_SECRET,
        "llm_bedrock_base_url": fake.url,
        "llm_timeout_seconds": 5.0,
    }
    return EffectiveSettings(**(values | overrides))  # type: ignore[arg-type]


@dataclass
class Target:
    """One provider under test: its fake and settings pointing the real SDK at it."""

    name: str
    fake: FakeLLMServer
    settings: EffectiveSettings

    def with_settings(self, **overrides: object) -> EffectiveSettings:
        builders = {"anthropic": anthropic_settings, "openai": openai_settings, "bedrock": bedrock_settings}
        return builders[self.name](self.fake, **overrides)  # type: ignore[operator]


@pytest.fixture(params=["anthropic", "bedrock", "openai"])
def target(
    request: pytest.FixtureRequest, fake_anthropic: FakeAnthropic, fake_openai: FakeOpenAI, fake_bedrock: FakeBedrock
) -> Target:
    name: str = request.param
    if name == "anthropic":
        return Target(name, fake_anthropic, anthropic_settings(fake_anthropic))
    if name == "openai":
        return Target(name, fake_openai, openai_settings(fake_openai))
    return Target(name, fake_bedrock, bedrock_settings(fake_bedrock))


@pytest.fixture
async def registry() -> AsyncIterator[ProviderRegistry]:
    providers = ProviderRegistry()
    yield providers
    await providers.aclose()


@pytest.fixture
async def close_llm_clients(app: FastAPI) -> AsyncIterator[None]:
    """Close the SDK clients an app test made (the app's lifespan does not run under ASGITransport)."""
    yield
    await state_of(app).llm_providers.aclose()
