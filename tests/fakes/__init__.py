"""Fakes of external services that speak the real protocols on 127.0.0.1 (importable without pytest)."""

from tests.fakes.llm import FakeAnthropic, FakeBedrock, FakeLLMServer, FakeOpenAI, Mode, Script

__all__ = ["FakeAnthropic", "FakeBedrock", "FakeLLMServer", "FakeOpenAI", "Mode", "Script"]
