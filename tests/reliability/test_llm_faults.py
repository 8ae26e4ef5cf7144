"""Every way the LLM can fail, through fake providers on loopback: the user message is kept, the partial reply is
kept and flagged `meta.incomplete`, the client gets the right code (SSE `error` event / JSON status), and the
server is healthy at once afterwards (/health/ready 200 and a normal message succeeds)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fakes import FakeAnthropic, Mode
from tests.fixtures.factories import auth_headers
from tests.fixtures.tutor import API, SSE, make_chat, make_lesson, parse_sse
from tests.reliability.llm_servers import StallingAnthropic, refusing_port, silent_port
from twosigma.config import Settings
from twosigma.enums import MessageRole
from twosigma.kit.state import state_of
from twosigma.system_settings.registry import KNOWN_SETTINGS
from twosigma.tutor.models import ChatMessage

TIMEOUT_SECONDS = "0.5"
BIG_DELTA = "x" * 1024
BIG_DELTAS = (BIG_DELTA,) * 2048  # 2 MiB of text in 2,048 deltas


@dataclass(frozen=True)
class Fault:
    """How to break the provider, and what the client and the database must show."""

    script: dict[str, Any] = field(default_factory=dict)
    endpoint: str | None = None  # "refused" | "silent": a base URL other than the fake's
    code: str | None = None  # None: the turn completes
    status: int = 200
    partial: str = ""
    retry_after: str | None = None
    timeout: str = "5"  # llm.timeout_seconds for this case


FAULTS: dict[str, Fault] = {
    "connection_refused": Fault(endpoint="refused", code="llm_error", status=502),
    "accepts_then_never_answers": Fault(endpoint="silent", code="llm_error", status=502, timeout=TIMEOUT_SECONDS),
    "read_timeout_mid_stream": Fault(
        {"mode": Mode.SLOW, "cut_after": 2}, code="llm_error", status=502, partial="Hello from", timeout=TIMEOUT_SECONDS
    ),
    "http_500": Fault({"mode": Mode.ERROR, "status": 500}, code="llm_error", status=502),
    "http_429_retry_after": Fault(
        {"mode": Mode.RATE_LIMITED, "retry_after": "7"}, code="llm_rate_limited", status=503, retry_after="7"
    ),
    "stream_cut": Fault({"mode": Mode.CUT, "cut_after": 2}, code="llm_error", status=502, partial="Hello from"),
    "malformed_sse": Fault({"mode": Mode.MALFORMED}, code="llm_error", status=502, partial="Hello"),
    "in_stream_error_event": Fault(
        {"mode": Mode.STREAM_ERROR, "cut_after": 3}, code="llm_error", status=502, partial="Hello from the"
    ),
    "oversized_reply_2_mib": Fault({"deltas": BIG_DELTAS}, partial="".join(BIG_DELTAS)),
}


@pytest.fixture(scope="module")
def stalling_anthropic() -> Iterator[StallingAnthropic]:
    with StallingAnthropic() as server:
        yield server


@pytest.fixture
def provider(stalling_anthropic: StallingAnthropic, monkeypatch: pytest.MonkeyPatch) -> StallingAnthropic:
    for spec in KNOWN_SETTINGS.values():
        for name in spec.env_vars:
            monkeypatch.delenv(name, raising=False)
    stalling_anthropic.reset()
    monkeypatch.setenv("TWOSIGMA_LLM_PROVIDER", "anthropic")
    monkeypatch.setenv("TWOSIGMA_LLM_ANTHROPIC_API_KEY", "sk-ant-faults-0123456789")
    monkeypatch.setenv("TWOSIGMA_LLM_ANTHROPIC_BASE_URL", stalling_anthropic.url)
    monkeypatch.setenv("TWOSIGMA_LLM_DEFAULT_MODEL", "claude-faults-test")
    monkeypatch.setenv("TWOSIGMA_TUTOR_MESSAGES_PER_MINUTE", "0")
    return stalling_anthropic


@pytest.fixture(autouse=True)
async def _close_llm_clients(app: FastAPI) -> AsyncIterator[None]:
    yield
    await state_of(app).llm_providers.aclose()


@dataclass
class Chat:
    id: int
    headers: dict[str, str]


@pytest.fixture
async def chat(db: AsyncSession, settings: Settings) -> Chat:
    lesson = await make_lesson(db)
    chat = await make_chat(db, lesson.student, content_item_id=lesson.item.id)
    return Chat(chat.id, auth_headers(settings, lesson.student))


async def stored(db: AsyncSession, chat_id: int) -> list[ChatMessage]:
    stmt = select(ChatMessage).where(ChatMessage.session_id == chat_id).order_by(ChatMessage.id)
    return list((await db.scalars(stmt.execution_options(populate_existing=True))).all())


def _endpoint(fault: Fault) -> AbstractContextManager[str | None]:
    if fault.endpoint == "refused":
        return refusing_port()
    if fault.endpoint == "silent":
        return silent_port()
    return nullcontext(None)


RESULTS: dict[tuple[str, str], float] = {}


@pytest.fixture(scope="module", autouse=True)
def _print_figures() -> Iterator[None]:
    yield
    rows = [f"  {name:<28} {mode:<4} {seconds * 1000:8.0f} ms" for (name, mode), seconds in RESULTS.items()]
    print("\nLLM faults, time to the failing answer:\n" + "\n".join(rows))  # noqa: T201 - the suite's figures


async def _assert_healthy_after(client: httpx.AsyncClient, chat: Chat, provider: FakeAnthropic, stream: bool) -> None:
    ready = await client.get("/health/ready")
    assert ready.status_code == 200, ready.text
    provider.reset()
    headers = chat.headers | (SSE if stream else {})
    response = await client.post(f"{API}/chat/sessions/{chat.id}/messages", json={"content": "Again"}, headers=headers)
    assert response.status_code == 200, response.text
    if stream:
        assert parse_sse(response.text)[-1][0] == "message.completed"
    else:
        assert response.json()["assistant_message"]["content"] == "Hello from the fake tutor."


class TestLLMFaults:
    @pytest.mark.parametrize("mode", ["sse", "json"])
    @pytest.mark.parametrize("name", list(FAULTS))
    async def test_the_fault_keeps_both_messages_answers_its_code_and_leaves_the_server_healthy(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        chat: Chat,
        provider: StallingAnthropic,
        monkeypatch: pytest.MonkeyPatch,
        name: str,
        mode: str,
    ) -> None:
        fault, stream = FAULTS[name], mode == "sse"
        provider.script(**fault.script)
        monkeypatch.setenv("TWOSIGMA_LLM_TIMEOUT_SECONDS", fault.timeout)
        with _endpoint(fault) as base_url:
            if base_url is not None:
                monkeypatch.setenv("TWOSIGMA_LLM_ANTHROPIC_BASE_URL", base_url)
            started = time.perf_counter()
            response = await client.post(
                f"{API}/chat/sessions/{chat.id}/messages",
                json={"content": "Explain, please"},
                headers=chat.headers | (SSE if stream else {}),
            )
            RESULTS[(name, mode)] = time.perf_counter() - started
        monkeypatch.setenv("TWOSIGMA_LLM_ANTHROPIC_BASE_URL", provider.url)

        user, reply = await stored(db, chat.id)
        assert (user.role, user.content) == (MessageRole.USER, "Explain, please")
        assert (reply.role, reply.content) == (MessageRole.ASSISTANT, fault.partial)
        if stream:
            assert response.status_code == 200
            events = parse_sse(response.text)
            assert events[0][0] == "message.created"
            assert "".join(data["text"] for event, data in events if event == "delta") == fault.partial
            last_event, last = events[-1]
            if fault.code is None:
                assert last_event == "message.completed"
            else:
                assert (last_event, last["code"]) == ("error", fault.code)
                assert last["assistant_message"]["id"] == reply.id
        else:
            assert response.status_code == fault.status, response.text
            if fault.code is not None:
                assert response.json()["error"]["code"] == fault.code
                assert response.json()["error"]["details"] == {
                    "user_message_id": user.id,
                    "assistant_message_id": reply.id,
                }
            else:
                assert len(response.json()["assistant_message"]["content"]) == len(fault.partial)
        if fault.retry_after is not None:
            if stream:
                assert str(parse_sse(response.text)[-1][1]["retry_after"]) == fault.retry_after
            else:
                assert response.headers["Retry-After"] == fault.retry_after
        if fault.code is None:
            assert "incomplete" not in reply.meta
        else:
            assert reply.meta["incomplete"] is True
            assert reply.meta["error"]["code"] == fault.code
        await _assert_healthy_after(client, chat, provider, stream)
