"""Ops tests talk to the fake providers; no real provider configuration leaks in from the environment."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI

from tests.fakes import FakeAnthropic
from twosigma.kit.state import state_of
from twosigma.system_settings.registry import KNOWN_SETTINGS


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
    monkeypatch.setenv("TWOSIGMA_LLM_PROVIDER", "anthropic")
    monkeypatch.setenv("TWOSIGMA_LLM_ANTHROPIC_API_KEY", "sk-ant-ops-test-0123456789")
    monkeypatch.setenv("TWOSIGMA_LLM_ANTHROPIC_BASE_URL", fake_anthropic.url)
    monkeypatch.setenv("TWOSIGMA_LLM_TIMEOUT_SECONDS", "5")
    monkeypatch.setenv("TWOSIGMA_LLM_DEFAULT_MODEL", "claude-ops-test")
    return fake_anthropic
