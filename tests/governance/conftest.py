"""Governance tests talk to the fake providers; no real provider configuration leaks in from the environment."""

from __future__ import annotations

import pytest

from tests.fakes import FakeAnthropic
from tests.fixtures.llm_env import _clean_environment, _close_llm_clients, use_fake_anthropic  # noqa: F401

ANTHROPIC_KEY = "sk-ant-governance-test-0123456789"
MODEL = "claude-tutor-test"
# 42 input and 7 output tokens per fake answer (tests/fakes): at 3 and 15 USD per million tokens.
PRICES = '{"claude-tutor-test": {"input_per_mtok": 3.0, "output_per_mtok": 15.0}}'
TURN_COST = (42 * 3.0 + 7 * 15.0) / 1_000_000


@pytest.fixture
def anthropic(fake_anthropic: FakeAnthropic, monkeypatch: pytest.MonkeyPatch) -> FakeAnthropic:
    monkeypatch.setenv("TWOSIGMA_LLM_PRICES", PRICES)
    return use_fake_anthropic(fake_anthropic, monkeypatch, api_key=ANTHROPIC_KEY, model=MODEL)
