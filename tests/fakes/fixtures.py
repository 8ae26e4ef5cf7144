"""Pytest fixtures for the fakes: one server per test session, its script and recorded requests reset per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.embeddings import FakeEmbeddings
from tests.fakes.llm import FakeAnthropic, FakeBedrock, FakeOpenAI


@pytest.fixture(scope="session")
def _fake_anthropic_server() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as server:
        yield server


@pytest.fixture(scope="session")
def _fake_openai_server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


@pytest.fixture(scope="session")
def _fake_bedrock_server() -> Iterator[FakeBedrock]:
    with FakeBedrock() as server:
        yield server


@pytest.fixture
def fake_anthropic(_fake_anthropic_server: FakeAnthropic) -> FakeAnthropic:
    """A fake Anthropic Messages API at `fake_anthropic.url` (use it as the SDK's base_url)."""
    _fake_anthropic_server.reset()
    return _fake_anthropic_server


@pytest.fixture
def fake_openai(_fake_openai_server: FakeOpenAI) -> FakeOpenAI:
    """A fake OpenAI chat-completions API; the SDK's base_url is `fake_openai.url + "/v1"`."""
    _fake_openai_server.reset()
    return _fake_openai_server


@pytest.fixture
def fake_bedrock(_fake_bedrock_server: FakeBedrock) -> FakeBedrock:
    """A fake Bedrock Runtime (InvokeModel and InvokeModelWithResponseStream) at `fake_bedrock.url`."""
    _fake_bedrock_server.reset()
    return _fake_bedrock_server


@pytest.fixture(scope="session")
def _fake_embeddings_server() -> Iterator[FakeEmbeddings]:
    with FakeEmbeddings() as server:
        yield server


@pytest.fixture
def fake_embeddings(_fake_embeddings_server: FakeEmbeddings) -> FakeEmbeddings:
    """A fake OpenAI-compatible /v1/embeddings; the SDK's base_url is `fake_embeddings.url + "/v1"`."""
    _fake_embeddings_server.reset()
    return _fake_embeddings_server
