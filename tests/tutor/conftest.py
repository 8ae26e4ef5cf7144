"""The tutor's tests talk to the fake providers; no real provider configuration leaks in from the environment."""

from __future__ import annotations

import pytest

from tests.fakes import FakeAnthropic, FakeOpenAI
from tests.fixtures.llm_env import _clean_environment, _close_llm_clients, use_fake_anthropic  # noqa: F401

ANTHROPIC_KEY = "sk-ant-tutor-test-0123456789"
OPENAI_KEY = "sk-openai-tutor-test-0123456789"


@pytest.fixture
def anthropic(fake_anthropic: FakeAnthropic, monkeypatch: pytest.MonkeyPatch) -> FakeAnthropic:
    """The tutor's provider is the fake Anthropic API (configured through the environment)."""
    return use_fake_anthropic(fake_anthropic, monkeypatch, api_key=ANTHROPIC_KEY, model="claude-tutor-test")


@pytest.fixture
def openai(fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> FakeOpenAI:
    monkeypatch.setenv("TWOSIGMA_LLM_PROVIDER", "openai")
    monkeypatch.setenv("TWOSIGMA_LLM_OPENAI_API_KEY", OPENAI_KEY)
    monkeypatch.setenv("TWOSIGMA_LLM_OPENAI_BASE_URL", f"{fake_openai.url}/v1")
    monkeypatch.setenv("TWOSIGMA_LLM_TIMEOUT_SECONDS", "5")
    return fake_openai
