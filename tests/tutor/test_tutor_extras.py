"""Sharing, notes, feedback, per-user limits and the bounded history window."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import event, insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from tests.fakes import FakeAnthropic
from tests.fixtures.factories import auth_headers
from tests.fixtures.tutor import API, Lesson, add_messages, chain_messages, make_chat, make_lesson
from twosigma.config import Settings
from twosigma.enums import MessageRole
from twosigma.tutor.context import estimate_tokens
from twosigma.tutor.models import ChatMessage, ChatSession

Headers = dict[str, str]


@pytest.fixture
async def lesson(db: AsyncSession) -> Lesson:
    return await make_lesson(db)


@pytest.fixture
def headers(settings: Settings, lesson: Lesson) -> Headers:
    return auth_headers(settings, lesson.student)


@pytest.fixture
async def chat(db: AsyncSession, lesson: Lesson) -> ChatSession:
    context = {"content_item": {"id": lesson.item.id, "title": "The chain rule"}}
    chat = await make_chat(db, lesson.student, content_item_id=lesson.item.id, content_context=context)
    await db.execute(
        insert(ChatMessage),
        [
            {"session_id": chat.id, "role": MessageRole.SYSTEM, "content": "secret system text", "meta": {}},
            {"session_id": chat.id, "role": MessageRole.USER, "content": "question", "meta": {}},
            {"session_id": chat.id, "role": MessageRole.ASSISTANT, "content": "answer", "meta": {"model": "m"}},
        ],
    )
    await chain_messages(db, chat.id)
    return chat


async def message_ids(db: AsyncSession, chat: ChatSession) -> dict[MessageRole, int]:
    from sqlalchemy import select

    rows = (await db.execute(select(ChatMessage.role, ChatMessage.id).where(ChatMessage.session_id == chat.id))).all()
    return {role: id_ for role, id_ in rows}


class TestSharing:
    async def test_the_shared_view_needs_no_login_and_shows_only_the_conversation(
        self, client: httpx.AsyncClient, headers: Headers, chat: ChatSession, settings: Settings
    ) -> None:
        shared = await client.post(f"{API}/chat/sessions/{chat.id}/share", headers=headers)
        assert shared.status_code == 200
        token = shared.json()["share_token"]
        assert len(token) >= 43
        assert shared.json()["share_url"] == f"{settings.public_base_url.rstrip('/')}/api/v1/shared/chats/{token}"
        view = await client.get(f"{API}/shared/chats/{token}")
        assert view.status_code == 200
        body = view.json()
        assert body["title"] == "The chain rule"
        assert [(m["role"], m["content"]) for m in body["messages"]] == [("USER", "question"), ("ASSISTANT", "answer")]
        assert "meta" not in body["messages"][1]
        assert "secret system text" not in view.text

    async def test_sharing_twice_keeps_the_link(
        self, client: httpx.AsyncClient, headers: Headers, chat: ChatSession
    ) -> None:
        first = (await client.post(f"{API}/chat/sessions/{chat.id}/share", headers=headers)).json()
        second = (await client.post(f"{API}/chat/sessions/{chat.id}/share", headers=headers)).json()
        assert first == second

    async def test_revoking_kills_the_token_at_once_and_sharing_again_makes_a_new_one(
        self, client: httpx.AsyncClient, headers: Headers, chat: ChatSession
    ) -> None:
        old = (await client.post(f"{API}/chat/sessions/{chat.id}/share", headers=headers)).json()["share_token"]
        assert (await client.delete(f"{API}/chat/sessions/{chat.id}/share", headers=headers)).status_code == 204
        gone = await client.get(f"{API}/shared/chats/{old}")
        assert gone.status_code == 404
        assert gone.json()["error"]["code"] == "shared_chat_not_found"
        new = (await client.post(f"{API}/chat/sessions/{chat.id}/share", headers=headers)).json()["share_token"]
        assert new != old
        assert (await client.get(f"{API}/shared/chats/{old}")).status_code == 404
        assert (await client.get(f"{API}/shared/chats/{new}")).status_code == 200

    async def test_an_unknown_token_is_404(self, client: httpx.AsyncClient) -> None:
        assert (await client.get(f"{API}/shared/chats/not-a-token")).status_code == 404


class TestNotes:
    async def test_notes_are_created_listed_edited_and_deleted(
        self, client: httpx.AsyncClient, db: AsyncSession, headers: Headers, chat: ChatSession
    ) -> None:
        ids = await message_ids(db, chat)
        created = await client.post(
            f"{API}/chat/sessions/{chat.id}/notes",
            json={"content": "Remember this", "selected_text": "answer", "message_id": ids[MessageRole.ASSISTANT]},
            headers=headers,
        )
        assert created.status_code == 201, created.text
        note = created.json()
        assert (note["content"], note["selected_text"], note["message_id"]) == (
            "Remember this",
            "answer",
            ids[MessageRole.ASSISTANT],
        )
        listed = (await client.get(f"{API}/chat/sessions/{chat.id}/notes", headers=headers)).json()
        assert [n["id"] for n in listed["items"]] == [note["id"]]
        patched = await client.patch(f"{API}/chat/notes/{note['id']}", json={"content": "Edited"}, headers=headers)
        assert patched.status_code == 200
        assert patched.json()["content"] == "Edited"
        assert patched.json()["selected_text"] == "answer"
        assert (await client.delete(f"{API}/chat/notes/{note['id']}", headers=headers)).status_code == 204
        assert (await client.get(f"{API}/chat/sessions/{chat.id}/notes", headers=headers)).json()["total"] == 0

    async def test_a_message_of_another_session_is_422(
        self, client: httpx.AsyncClient, db: AsyncSession, headers: Headers, chat: ChatSession, lesson: Lesson
    ) -> None:
        other = await make_chat(db, lesson.student)
        await add_messages(db, other, 1)
        foreign = (await message_ids(db, other))[MessageRole.USER]
        response = await client.post(
            f"{API}/chat/sessions/{chat.id}/notes", json={"content": "x", "message_id": foreign}, headers=headers
        )
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "message_not_in_session"

    @pytest.mark.parametrize("body", [{}, {"content": ""}, {"content": "x", "extra": 1}, {"content": "x" * 20_001}])
    async def test_bad_note_bodies_are_422(
        self, client: httpx.AsyncClient, headers: Headers, chat: ChatSession, body: dict[str, Any]
    ) -> None:
        response = await client.post(f"{API}/chat/sessions/{chat.id}/notes", json=body, headers=headers)
        assert response.status_code == 422

    async def test_patching_content_to_null_is_422(
        self, client: httpx.AsyncClient, headers: Headers, chat: ChatSession
    ) -> None:
        note = (
            await client.post(f"{API}/chat/sessions/{chat.id}/notes", json={"content": "a"}, headers=headers)
        ).json()
        response = await client.patch(f"{API}/chat/notes/{note['id']}", json={"content": None}, headers=headers)
        assert response.status_code == 422

    async def test_another_users_note_is_404(
        self, client: httpx.AsyncClient, headers: Headers, chat: ChatSession, settings: Settings, lesson: Lesson
    ) -> None:
        note = (
            await client.post(f"{API}/chat/sessions/{chat.id}/notes", json={"content": "a"}, headers=headers)
        ).json()
        intruder = auth_headers(settings, lesson.classroom.campus.student)
        url = f"{API}/chat/notes/{note['id']}"
        assert (await client.patch(url, json={"content": "b"}, headers=intruder)).status_code == 404
        assert (await client.delete(url, headers=intruder)).status_code == 404


class TestFeedback:
    async def test_feedback_is_stored_in_the_meta_and_rating_again_overwrites(
        self, client: httpx.AsyncClient, db: AsyncSession, headers: Headers, chat: ChatSession
    ) -> None:
        reply = (await message_ids(db, chat))[MessageRole.ASSISTANT]
        url = f"{API}/chat/messages/{reply}/feedback"
        first = await client.post(url, json={"rating": "up", "comment": "clear"}, headers=headers)
        assert first.status_code == 200, first.text
        assert first.json()["meta"]["feedback"]["rating"] == "up"
        assert first.json()["meta"]["model"] == "m"
        second = await client.post(url, json={"rating": "down"}, headers=headers)
        feedback = second.json()["meta"]["feedback"]
        assert (feedback["rating"], feedback["comment"]) == ("down", None)
        assert feedback["at"]

    async def test_feedback_on_a_user_message_is_422(
        self, client: httpx.AsyncClient, db: AsyncSession, headers: Headers, chat: ChatSession
    ) -> None:
        mine = (await message_ids(db, chat))[MessageRole.USER]
        response = await client.post(f"{API}/chat/messages/{mine}/feedback", json={"rating": "up"}, headers=headers)
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "not_an_assistant_message"

    @pytest.mark.parametrize("body", [{}, {"rating": "meh"}, {"rating": "up", "comment": "x" * 2001}])
    async def test_bad_feedback_is_422(
        self, client: httpx.AsyncClient, db: AsyncSession, headers: Headers, chat: ChatSession, body: dict[str, Any]
    ) -> None:
        reply = (await message_ids(db, chat))[MessageRole.ASSISTANT]
        response = await client.post(f"{API}/chat/messages/{reply}/feedback", json=body, headers=headers)
        assert response.status_code == 422

    async def test_feedback_on_another_users_message_is_404(
        self, client: httpx.AsyncClient, db: AsyncSession, chat: ChatSession, settings: Settings, lesson: Lesson
    ) -> None:
        reply = (await message_ids(db, chat))[MessageRole.ASSISTANT]
        intruder = auth_headers(settings, lesson.classroom.campus.student)
        response = await client.post(f"{API}/chat/messages/{reply}/feedback", json={"rating": "up"}, headers=intruder)
        assert response.status_code == 404


class TestLimits:
    async def test_messages_over_the_per_minute_limit_are_429_with_retry_after(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        headers: Headers,
        lesson: Lesson,
        anthropic: FakeAnthropic,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setenv("TWOSIGMA_TUTOR_MESSAGES_PER_MINUTE", "2")
        chat = await make_chat(db, lesson.student)
        url = f"{API}/chat/sessions/{chat.id}/messages"
        for _ in range(2):
            assert (await client.post(url, json={"content": "hi"}, headers=headers)).status_code == 200
        refused = await client.post(url, json={"content": "hi"}, headers=headers)
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) >= 1
        assert len(anthropic.requests) == 2

    async def test_a_spent_daily_token_allowance_is_429_until_utc_midnight(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        headers: Headers,
        lesson: Lesson,
        anthropic: FakeAnthropic,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setenv("TWOSIGMA_TUTOR_TOKENS_PER_DAY", "60")
        chat = await make_chat(db, lesson.student)
        url = f"{API}/chat/sessions/{chat.id}/messages"
        assert (await client.post(url, json={"content": "hi"}, headers=headers)).status_code == 200  # 42 + 7 tokens
        assert (await client.post(url, json={"content": "hi"}, headers=headers)).status_code == 200  # 98 now
        refused = await client.post(url, json={"content": "hi"}, headers=headers)
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "tutor_token_limit"
        assert 1 <= int(refused.headers["Retry-After"]) <= 86_401


@contextmanager
def count_statements(engine: AsyncEngine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


def queries(statements: list[str]) -> list[str]:
    return [s for s in statements if not s.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT"))]


class TestHistoryWindow:
    async def test_a_long_conversation_sends_only_the_budgeted_newest_messages(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        headers: Headers,
        lesson: Lesson,
        anthropic: FakeAnthropic,
        monkeypatch: pytest.MonkeyPatch,
        db_engine: AsyncEngine,
    ) -> None:
        budget = 200
        monkeypatch.setenv("TWOSIGMA_TUTOR_HISTORY_TOKEN_BUDGET", str(budget))
        long_chat, short_chat = await make_chat(db, lesson.student), await make_chat(db, lesson.student)
        await add_messages(db, long_chat, 5_000, content="x" * 40)
        await add_messages(db, short_chat, 60, content="x" * 40)
        # Active today already, so neither send writes the streak and the two runs are comparable.
        lesson.student.current_streak_days, lesson.student.last_activity_date = 1, datetime.now(UTC).date()
        await db.flush()
        # One turn first, so both measured turns find the settings in the process's cache alike.
        warm = await client.post(
            f"{API}/chat/sessions/{(await make_chat(db, lesson.student)).id}/messages",
            json={"content": "warm"},
            headers=headers,
        )
        assert warm.status_code == 200, warm.text

        with count_statements(db_engine) as long_statements:
            response = await client.post(
                f"{API}/chat/sessions/{long_chat.id}/messages", json={"content": "newest"}, headers=headers
            )
        assert response.status_code == 200, response.text
        sent = anthropic.last_request.json()["messages"]
        per_message = estimate_tokens("x" * 40 + " 4999")
        expected_history = (budget - estimate_tokens("newest")) // per_message
        assert len(sent) == expected_history + 1
        assert sent[-1] == {"role": "user", "content": "newest"}
        assert sent[-2]["content"] == "x" * 40 + " 4999"
        assert sent[0]["role"] == "user"

        with count_statements(db_engine) as short_statements:
            await client.post(
                f"{API}/chat/sessions/{short_chat.id}/messages", json={"content": "newest"}, headers=headers
            )
        # The same statements whatever the length of the conversation (savepoints are the test harness's own).
        assert queries(long_statements) == queries(short_statements)
