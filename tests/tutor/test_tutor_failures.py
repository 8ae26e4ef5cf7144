"""Every way a turn can fail keeps the user's message and the partial reply (flagged incomplete); retry."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fakes import FakeAnthropic, FakeOpenAI, Mode
from tests.fixtures.factories import access_token, auth_headers
from tests.fixtures.tutor import API, SSE, Lesson, make_chat, make_lesson, parse_sse, stream_then_leave
from twosigma.config import Settings
from twosigma.db.engine import Database
from twosigma.enums import MessageRole
from twosigma.kit.state import state_of
from twosigma.tutor.models import ChatMessage

Headers = dict[str, str]


@pytest.fixture
async def lesson(db: AsyncSession) -> Lesson:
    return await make_lesson(db)


@pytest.fixture
def headers(settings: Settings, lesson: Lesson) -> Headers:
    return auth_headers(settings, lesson.student)


@pytest.fixture
async def chat_id(db: AsyncSession, lesson: Lesson) -> int:
    return (await make_chat(db, lesson.student, content_item_id=lesson.item.id)).id


async def stored(db: AsyncSession, chat_id: int) -> list[ChatMessage]:
    stmt = select(ChatMessage).where(ChatMessage.session_id == chat_id).order_by(ChatMessage.id)
    return list((await db.scalars(stmt.execution_options(populate_existing=True))).all())


def send_url(chat_id: int) -> str:
    return f"{API}/chat/sessions/{chat_id}/messages"


# (fake script, expected error code, expected partial text)
FAILURES: dict[str, tuple[dict[str, Any], str, str]] = {
    "server_error": ({"mode": Mode.ERROR, "status": 500}, "llm_error", ""),
    "rate_limited": ({"mode": Mode.RATE_LIMITED, "retry_after": "7"}, "llm_rate_limited", ""),
    "cut_after_two_deltas": ({"mode": Mode.CUT, "cut_after": 2}, "llm_error", "Hello from"),
    "malformed_event": ({"mode": Mode.MALFORMED}, "llm_error", "Hello"),
    "in_stream_error": ({"mode": Mode.STREAM_ERROR, "cut_after": 3}, "llm_error", "Hello from the"),
}
STATUS = {"llm_error": 502, "llm_rate_limited": 503}


class TestProviderFailures:
    @pytest.mark.parametrize("case", list(FAILURES))
    async def test_the_stream_ends_with_an_error_and_the_partial_reply_is_stored_incomplete(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        headers: Headers,
        chat_id: int,
        anthropic: FakeAnthropic,
        case: str,
    ) -> None:
        script, code, partial = FAILURES[case]
        anthropic.script(**script)
        response = await client.post(send_url(chat_id), json={"content": "Explain, please"}, headers=headers | SSE)
        assert response.status_code == 200
        events = parse_sse(response.text)
        assert events[0][0] == "message.created"
        assert events[-1][0] == "error"
        error = events[-1][1]
        assert error["code"] == code
        assert "".join(d["text"] for name, d in events if name == "delta") == partial
        user, reply = await stored(db, chat_id)
        assert (user.role, user.content) == (MessageRole.USER, "Explain, please")
        assert (reply.role, reply.content) == (MessageRole.ASSISTANT, partial)
        assert reply.meta["incomplete"] is True
        assert reply.meta["error"]["code"] == code
        assert error["assistant_message"]["id"] == reply.id
        if code == "llm_rate_limited":
            assert error["retry_after"] == 7

    @pytest.mark.parametrize("case", ["server_error", "rate_limited", "cut_after_two_deltas"])
    async def test_json_mode_answers_the_mapped_error_after_storing_both_messages(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        headers: Headers,
        chat_id: int,
        openai: FakeOpenAI,
        case: str,
    ) -> None:
        script, code, partial = FAILURES[case]
        openai.script(**script)
        response = await client.post(send_url(chat_id), json={"content": "Explain"}, headers=headers)
        assert response.status_code == STATUS[code]
        body = response.json()["error"]
        assert body["code"] == code
        if code == "llm_rate_limited":
            assert response.headers["Retry-After"] == "7"
        user, reply = await stored(db, chat_id)
        assert body["details"] == {"user_message_id": user.id, "assistant_message_id": reply.id}
        assert user.content == "Explain"
        assert reply.content == partial
        assert reply.meta["incomplete"] is True

    async def test_a_provider_slower_than_the_timeout_is_a_502_with_the_partial_kept(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        headers: Headers,
        chat_id: int,
        anthropic: FakeAnthropic,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setenv("TWOSIGMA_LLM_TIMEOUT_SECONDS", "0.3")
        anthropic.script(mode=Mode.SLOW, delay=1.0)
        response = await client.post(send_url(chat_id), json={"content": "Hurry"}, headers=headers)
        assert response.status_code == 502
        assert response.json()["error"]["code"] == "llm_error"
        user, reply = await stored(db, chat_id)
        assert user.content == "Hurry"
        assert reply.meta["incomplete"] is True
        assert "time" in reply.meta["error"]["message"]

    async def test_no_configured_provider_is_503_with_the_message_kept(
        self, client: httpx.AsyncClient, db: AsyncSession, headers: Headers, chat_id: int
    ) -> None:
        response = await client.post(send_url(chat_id), json={"content": "Anyone there?"}, headers=headers)
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "llm_not_configured"
        user, reply = await stored(db, chat_id)
        assert user.content == "Anyone there?"
        assert reply.content == ""
        assert reply.meta["error"]["code"] == "llm_not_configured"

    async def test_no_configured_provider_streams_an_error_event(
        self, client: httpx.AsyncClient, headers: Headers, chat_id: int
    ) -> None:
        response = await client.post(send_url(chat_id), json={"content": "Anyone?"}, headers=headers | SSE)
        assert [name for name, _ in parse_sse(response.text)] == ["message.created", "error"]
        assert parse_sse(response.text)[-1][1]["code"] == "llm_not_configured"


class TestRetry:
    async def test_retry_answers_the_last_user_message_without_storing_it_again(
        self, client: httpx.AsyncClient, db: AsyncSession, headers: Headers, chat_id: int, anthropic: FakeAnthropic
    ) -> None:
        anthropic.script(mode=Mode.CUT, cut_after=1)
        await client.post(send_url(chat_id), json={"content": "Question"}, headers=headers)
        anthropic.reset()
        response = await client.post(f"{API}/chat/sessions/{chat_id}/retry", headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        rows = await stored(db, chat_id)
        assert [(r.role, r.content) for r in rows] == [
            (MessageRole.USER, "Question"),
            (MessageRole.ASSISTANT, "Hello"),
            (MessageRole.ASSISTANT, "Hello from the fake tutor."),
        ]
        assert body["user_message"]["id"] == rows[0].id
        assert body["assistant_message"]["id"] == rows[2].id
        # The incomplete reply is not shown to the model as something it said.
        assert anthropic.last_request.json()["messages"] == [{"role": "user", "content": "Question"}]

    async def test_retry_streams_without_a_message_created_event(
        self, client: httpx.AsyncClient, headers: Headers, chat_id: int, anthropic: FakeAnthropic
    ) -> None:
        anthropic.script(mode=Mode.ERROR)
        await client.post(send_url(chat_id), json={"content": "Question"}, headers=headers)
        anthropic.reset()
        response = await client.post(f"{API}/chat/sessions/{chat_id}/retry", headers=headers | SSE)
        names = [name for name, _ in parse_sse(response.text)]
        assert names[0] == "delta"
        assert names[-1] == "message.completed"

    async def test_retry_of_an_empty_conversation_is_409(
        self, client: httpx.AsyncClient, headers: Headers, chat_id: int, anthropic: FakeAnthropic
    ) -> None:
        response = await client.post(f"{API}/chat/sessions/{chat_id}/retry", headers=headers)
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "nothing_to_retry"


class TestClientDisconnect:
    @pytest.mark.parametrize("spec_version", ["2.3", "2.4"])
    async def test_the_text_received_before_the_client_left_is_stored_incomplete(
        self,
        app: FastAPI,
        db: AsyncSession,
        settings: Settings,
        lesson: Lesson,
        chat_id: int,
        anthropic: FakeAnthropic,
        spec_version: str,
    ) -> None:
        anthropic.script(mode=Mode.SLOW, delay=0.2)
        await stream_then_leave(
            app,
            send_url(chat_id),
            access_token(settings, lesson.student),
            {"content": "Long answer please"},
            marker=b"event: delta",
            count=2,
            spec_version=spec_version,
        )
        user, reply = await stored(db, chat_id)
        assert user.content == "Long answer please"
        assert reply.content.startswith("Hello from")
        assert reply.content != "Hello from the fake tutor."
        assert reply.meta["incomplete"] is True
        assert reply.meta["error"]["code"] == "client_disconnected"


class VanishingDatabase:
    """A sessionmaker that hands out `sessions` real sessions, then fails the way an unreachable server does."""

    def __init__(self, inner: Any, sessions: int) -> None:
        self.inner = inner
        self.sessions = sessions
        self.calls = 0

    def __call__(self, **kwargs: Any) -> Any:
        self.calls += 1
        if self.calls > self.sessions:
            raise ConnectionRefusedError("the database went away")
        return self.inner(**kwargs)


class TestDatabaseLostBeforeTheReplyIsStored:
    async def test_the_stream_ends_with_an_error_event_and_the_user_message_is_kept(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        db: AsyncSession,
        headers: Headers,
        chat_id: int,
        anthropic: FakeAnthropic,
    ) -> None:
        # Sessions: the principal's read session, the request's own (which commits the user's message); the reply's
        # store fails.
        state = state_of(app)
        vanishing = VanishingDatabase(state.database.sessionmaker, sessions=2)
        state.db = Database(engine=state.database.engine, sessionmaker=vanishing)
        response = await client.post(send_url(chat_id), json={"content": "Explain, please"}, headers=headers | SSE)
        events = parse_sse(response.text)
        assert events[0][0] == "message.created"
        assert events[-1][0] == "error"
        assert events[-1][1]["code"] == "database_unavailable"
        assert vanishing.calls == 3
        messages = await stored(db, chat_id)
        assert [(m.role, m.content) for m in messages] == [(MessageRole.USER, "Explain, please")]
