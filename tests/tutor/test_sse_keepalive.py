"""SSE keep-alive comments while a turn has nothing to send (tutor/streaming.py), and a client leaving during
that wait still gets its partial reply stored."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fakes import FakeAnthropic, Mode
from tests.fixtures.factories import access_token, auth_headers
from tests.fixtures.tutor import API, SSE, Lesson, make_chat, make_lesson, parse_sse, stream_then_leave
from twosigma.config import Settings
from twosigma.enums import MessageRole
from twosigma.tutor import streaming
from twosigma.tutor.models import ChatMessage


@pytest.fixture
async def lesson(db: AsyncSession) -> Lesson:
    return await make_lesson(db)


@pytest.fixture
async def chat_id(db: AsyncSession, lesson: Lesson) -> int:
    return (await make_chat(db, lesson.student, content_item_id=lesson.item.id)).id


async def stored(db: AsyncSession, chat_id: int) -> list[ChatMessage]:
    rows = await db.scalars(select(ChatMessage).where(ChatMessage.session_id == chat_id).order_by(ChatMessage.id))
    return list(rows)


class TestKeepAlive:
    async def test_a_slow_provider_gets_keep_alive_comments_and_the_turn_completes(
        self,
        client: httpx.AsyncClient,
        settings: Settings,
        lesson: Lesson,
        chat_id: int,
        anthropic: FakeAnthropic,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setattr(streaming, "KEEPALIVE_SECONDS", 0.03)
        anthropic.script(mode=Mode.SLOW, delay=0.15)  # before every streamed event
        response = await client.post(
            f"{API}/chat/sessions/{chat_id}/messages",
            json={"content": "Take your time"},
            headers=auth_headers(settings, lesson.student) | SSE,
        )
        assert response.status_code == 200
        body = response.text
        assert ": keep-alive\n\n" in body
        # Comments come between events, never inside one; the events are the usual ones, in order.
        assert body.index(": keep-alive") < body.index("event: delta")
        events = parse_sse(body)
        assert events[0][0] == "message.created"
        assert [name for name, _ in events[1:-1]] == ["delta"] * 5
        assert events[-1][0] == "message.completed"
        assert events[-1][1]["content"] == "Hello from the fake tutor."

    async def test_no_comment_when_events_keep_coming(
        self, client: httpx.AsyncClient, settings: Settings, lesson: Lesson, chat_id: int, anthropic: FakeAnthropic
    ) -> None:
        response = await client.post(
            f"{API}/chat/sessions/{chat_id}/messages",
            json={"content": "Quick one"},
            headers=auth_headers(settings, lesson.student) | SSE,
        )
        assert response.status_code == 200
        assert b": keep-alive" not in response.content
        assert parse_sse(response.text)[-1][0] == "message.completed"


class TestLeavingDuringTheWait:
    @pytest.mark.parametrize("spec_version", ["2.3", "2.4"])
    async def test_the_user_message_and_an_empty_incomplete_reply_are_stored(
        self,
        app: FastAPI,
        db: AsyncSession,
        settings: Settings,
        lesson: Lesson,
        chat_id: int,
        anthropic: FakeAnthropic,
        monkeypatch: pytest.MonkeyPatch,
        spec_version: str,
    ) -> None:
        monkeypatch.setattr(streaming, "KEEPALIVE_SECONDS", 0.03)
        anthropic.script(mode=Mode.SLOW, delay=1.0)  # nothing arrives while the client is there
        body = await stream_then_leave(
            app,
            f"{API}/chat/sessions/{chat_id}/messages",
            access_token(settings, lesson.student),
            {"content": "Think hard"},
            marker=b": keep-alive",
            count=2,
            spec_version=spec_version,
        )
        assert b"event: delta" not in body
        user, reply = await stored(db, chat_id)
        assert (user.role, user.content) == (MessageRole.USER, "Think hard")
        assert reply.role is MessageRole.ASSISTANT
        assert reply.content == ""
        assert reply.meta["incomplete"] is True
        assert reply.meta["error"]["code"] == "client_disconnected"
