"""The tutor's tests talk to the fake providers; no real provider configuration leaks in from the environment."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI

from tests.fakes import FakeAnthropic, FakeOpenAI
from twosigma.kit.state import state_of
from twosigma.system_settings.registry import KNOWN_SETTINGS

ANTHROPIC_KEY = "sk-ant-tutor-test-0123456789"
OPENAI_KEY = "sk-openai-tutor-test-0123456789"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for spec in KNOWN_SETTINGS.values():
        for name in spec.env_vars:
            monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
async def _close_llm_clients(app: FastAPI) -> AsyncIterator[None]:
    yield
    await state_of(app).llm_providers.aclose()


@pytest.fixture
def anthropic(fake_anthropic: FakeAnthropic, monkeypatch: pytest.MonkeyPatch) -> FakeAnthropic:
    """The tutor's provider is the fake Anthropic API (configured through the environment)."""
    monkeypatch.setenv("TWOSIGMA_LLM_PROVIDER", "anthropic")
    monkeypatch.setenv("TWOSIGMA_LLM_ANTHROPIC_API_KEY", ANTHROPIC_KEY)
    monkeypatch.setenv("TWOSIGMA_LLM_ANTHROPIC_BASE_URL", fake_anthropic.url)
    monkeypatch.setenv("TWOSIGMA_LLM_TIMEOUT_SECONDS", "5")
    # A model name the SDK does not flag as deprecated (its DeprecationWarning would fail the test).
    monkeypatch.setenv("TWOSIGMA_LLM_DEFAULT_MODEL", "claude-tutor-test")
    return fake_anthropic


@pytest.fixture
def openai(fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> FakeOpenAI:
    monkeypatch.setenv("TWOSIGMA_LLM_PROVIDER", "openai")
    monkeypatch.setenv("TWOSIGMA_LLM_OPENAI_API_KEY", OPENAI_KEY)
    monkeypatch.setenv("TWOSIGMA_LLM_OPENAI_BASE_URL", f"{fake_openai.url}/v1")
    monkeypatch.setenv("TWOSIGMA_LLM_TIMEOUT_SECONDS", "5")
    return fake_openai
