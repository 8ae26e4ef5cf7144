"""The fallback provider takes a turn on 5xx, 429 and a timeout before the first token; never on a 4xx, and never
once the primary has streamed a token. meta records which one answered."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fakes import FakeAnthropic, FakeOpenAI
from tests.fakes.llm import Mode
from tests.fixtures.factories import auth_headers
from tests.fixtures.tutor import API, Lesson, make_chat, make_lesson
from twosigma.config import Settings
from twosigma.tutor.models import ChatSession

FALLBACK_KEY = "sk-openai-fallback-0123456789"


@pytest.fixture
async def lesson(db: AsyncSession) -> Lesson:
    return await make_lesson(db)


@pytest.fixture
async def chat(db: AsyncSession, lesson: Lesson) -> ChatSession:
    return await make_chat(db, lesson.student, content_item_id=lesson.item.id)


@pytest.fixture
def fallback(fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, anthropic: FakeAnthropic) -> FakeOpenAI:
    monkeypatch.setenv("TWOSIGMA_LLM_FALLBACK_PROVIDER", "openai")
    monkeypatch.setenv("TWOSIGMA_LLM_FALLBACK_MODEL", "gpt-fallback")
    monkeypatch.setenv("TWOSIGMA_LLM_OPENAI_API_KEY", FALLBACK_KEY)
    monkeypatch.setenv("TWOSIGMA_LLM_OPENAI_BASE_URL", f"{fake_openai.url}/v1")
    return fake_openai


async def send(client: httpx.AsyncClient, settings: Settings, lesson: Lesson, chat: ChatSession) -> httpx.Response:
    return await client.post(
        f"{API}/chat/sessions/{chat.id}/messages",
        json={"content": "Hi"},
        headers=auth_headers(settings, lesson.student),
    )


FAILURE_CLASSES: dict[str, dict[str, Any]] = {
    "500": {"mode": Mode.ERROR, "status": 500},
    "503": {"mode": Mode.ERROR, "status": 503},
    "429": {"mode": Mode.RATE_LIMITED},
    "timeout before the first token": {"mode": Mode.SLOW, "delay": 3.0},
}


class TestTheFallback:
    @pytest.mark.parametrize("case", list(FAILURE_CLASSES))
    async def test_it_takes_the_turn_when_the_primary_fails_before_the_first_token(
        self,
        client: httpx.AsyncClient,
        settings: Settings,
        lesson: Lesson,
        chat: ChatSession,
        anthropic: FakeAnthropic,
        fallback: FakeOpenAI,
        monkeypatch: pytest.MonkeyPatch,
        case: str,
    ) -> None:
        if "timeout" in case:
            monkeypatch.setenv("TWOSIGMA_LLM_TIMEOUT_SECONDS", "0.5")
        anthropic.script(**FAILURE_CLASSES[case])
        r = await send(client, settings, lesson, chat)
        assert r.status_code == 200, r.text
        reply = r.json()["assistant_message"]
        assert reply["content"] == "Hello from the fake tutor."
        assert reply["meta"]["provider"] == "openai"
        assert reply["meta"]["model"] == "gpt-fallback"
        assert reply["meta"]["fallback"]["from"] == "anthropic"
        assert len(anthropic.requests) >= 1
        [call] = fallback.requests
        assert call.headers["authorization"] == f"Bearer {FALLBACK_KEY}"
        assert call.json()["model"] == "gpt-fallback"

    @pytest.mark.parametrize("status", [400, 401, 404, 422])
    async def test_a_4xx_is_not_retried_on_the_fallback(
        self,
        client: httpx.AsyncClient,
        settings: Settings,
        lesson: Lesson,
        chat: ChatSession,
        anthropic: FakeAnthropic,
        fallback: FakeOpenAI,
        status: int,
    ) -> None:
        anthropic.script(mode=Mode.ERROR, status=status)
        r = await send(client, settings, lesson, chat)
        assert r.status_code == 502
        assert fallback.requests == []

    async def test_a_failure_after_the_first_token_is_not_retried(
        self,
        client: httpx.AsyncClient,
        settings: Settings,
        lesson: Lesson,
        chat: ChatSession,
        anthropic: FakeAnthropic,
        fallback: FakeOpenAI,
    ) -> None:
        anthropic.script(mode=Mode.CUT, cut_after=2)
        r = await send(client, settings, lesson, chat)
        assert r.status_code == 502
        assert fallback.requests == []

    async def test_a_healthy_primary_answers_and_meta_names_it(
        self,
        client: httpx.AsyncClient,
        settings: Settings,
        lesson: Lesson,
        chat: ChatSession,
        anthropic: FakeAnthropic,
        fallback: FakeOpenAI,
    ) -> None:
        meta = (await send(client, settings, lesson, chat)).json()["assistant_message"]["meta"]
        assert meta["provider"] == "anthropic"
        assert "fallback" not in meta
        assert fallback.requests == []

    async def test_without_a_fallback_the_failure_reaches_the_client(
        self,
        client: httpx.AsyncClient,
        settings: Settings,
        lesson: Lesson,
        chat: ChatSession,
        anthropic: FakeAnthropic,
    ) -> None:
        anthropic.script(mode=Mode.ERROR, status=503)
        assert (await send(client, settings, lesson, chat)).status_code == 502
