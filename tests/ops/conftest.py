"""Ops tests talk to the fake providers; no real provider configuration leaks in from the environment."""

from __future__ import annotations

import pytest

from tests.fakes import FakeAnthropic
from tests.fixtures.llm_env import _clean_environment, _close_llm_clients, use_fake_anthropic  # noqa: F401


@pytest.fixture
def anthropic(fake_anthropic: FakeAnthropic, monkeypatch: pytest.MonkeyPatch) -> FakeAnthropic:
    return use_fake_anthropic(
        fake_anthropic, monkeypatch, api_key="sk-ant-ops-test-0123456789", model="claude-ops-test"
    )
