"""history_window reads the conversation in doubling batches (HISTORY_BATCH, then twice as many each time, up
to HISTORY_BATCH_MAX): a budget that holds a thousand short messages costs a handful of reads, and the window is
exactly what fits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from tests.fakes import FakeAnthropic
from tests.fixtures.factories import auth_headers
from tests.fixtures.tenancy import count_statements
from tests.fixtures.tutor import API, Lesson, add_messages, chain_messages, make_chat, make_lesson
from twosigma.config import Settings
from twosigma.enums import MessageRole
from twosigma.tutor import context
from twosigma.tutor import repository as repo
from twosigma.tutor.context import HISTORY_BATCH, HISTORY_BATCH_MAX, estimate_tokens, history_window
from twosigma.tutor.models import ChatMessage, ChatSession

CONVERSATION = 1_500
CONTENT = "x" * 8  # add_messages appends " {n}": 7 or 8 estimated tokens a message
BUDGET = 7_000  # about 930 of them


@pytest.fixture
async def lesson(db: AsyncSession) -> Lesson:
    return await make_lesson(db)


@pytest.fixture
async def long_chat(db: AsyncSession, lesson: Lesson) -> ChatSession:
    chat = await make_chat(db, lesson.student)
    await add_messages(db, chat, CONVERSATION, content=CONTENT)
    return chat


@pytest.fixture
def batch_sizes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The LIMIT of every history read, in order."""
    sizes: list[int] = []
    read = repo.history_batch

    async def recording(session: AsyncSession, session_id: int, start: int, size: int) -> Any:
        sizes.append(size)
        return await read(session, session_id, start, size)

    monkeypatch.setattr(repo, "history_batch", recording)
    return sizes


def conversation(newest: str | None = None) -> list[tuple[MessageRole, str]]:
    """The messages add_messages stored, oldest first, and the one being answered."""
    rows = [(MessageRole.USER if n % 2 == 0 else MessageRole.ASSISTANT, f"{CONTENT} {n}") for n in range(CONVERSATION)]
    return rows + ([(MessageRole.USER, newest)] if newest is not None else [])


def expected_window(messages: Sequence[tuple[MessageRole, str]], budget: int) -> list[tuple[MessageRole, str]]:
    """The newest messages whose estimated tokens fit `budget` (the newest always), oldest first."""
    kept: list[tuple[MessageRole, str]] = []
    spent = 0
    for role, content in reversed(messages):
        cost = estimate_tokens(content)
        if kept and spent + cost > budget:
            break
        kept.append((role, content))
        spent += cost
    return kept[::-1]


async def newest_id(db: AsyncSession, chat: ChatSession) -> int:
    upto = await db.scalar(
        select(ChatMessage.id).where(ChatMessage.session_id == chat.id).order_by(ChatMessage.id.desc()).limit(1)
    )
    assert upto is not None
    return upto


def is_history_read(statement: str) -> bool:
    return statement.startswith("WITH RECURSIVE history")


class TestHistoryWindow:
    async def test_batches_double_from_the_first_size(
        self, db: AsyncSession, long_chat: ChatSession, batch_sizes: list[int]
    ) -> None:
        upto = await newest_id(db, long_chat)
        window = await history_window(db, long_chat.id, upto, BUDGET)

        expected = expected_window(conversation(), BUDGET)
        assert 900 <= len(expected) <= 1_000  # the scenario: a thousand-ish short messages fit
        assert [(row.role, row.content) for row in window] == expected
        assert batch_sizes[0] == HISTORY_BATCH
        assert batch_sizes == [HISTORY_BATCH * 2**i for i in range(len(batch_sizes))]
        assert len(batch_sizes) <= 6

    async def test_batches_stop_growing_at_the_maximum(
        self, db: AsyncSession, long_chat: ChatSession, batch_sizes: list[int], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        assert HISTORY_BATCH < HISTORY_BATCH_MAX
        monkeypatch.setattr(context, "HISTORY_BATCH", 10)
        monkeypatch.setattr(context, "HISTORY_BATCH_MAX", 40)
        upto = await newest_id(db, long_chat)
        window = await history_window(db, long_chat.id, upto, 1_000)
        assert [(row.role, row.content) for row in window] == expected_window(conversation(), 1_000)
        assert batch_sizes[:3] == [10, 20, 40]
        assert set(batch_sizes[3:]) == {40}
        assert len(batch_sizes) > 3  # the cap was reached and held

    async def test_a_conversation_shorter_than_the_budget_is_read_to_its_start(
        self, db: AsyncSession, lesson: Lesson, batch_sizes: list[int]
    ) -> None:
        chat = await make_chat(db, lesson.student)
        await add_messages(db, chat, 2 * HISTORY_BATCH + 20, content=CONTENT)
        upto = await newest_id(db, chat)
        window = await history_window(db, chat.id, upto, 100_000)
        assert len(window) == 2 * HISTORY_BATCH + 20
        assert batch_sizes == [HISTORY_BATCH, 2 * HISTORY_BATCH]  # one full batch, then a short one: the start

    async def test_incomplete_replies_are_skipped_across_batch_boundaries(
        self, db: AsyncSession, lesson: Lesson, batch_sizes: list[int]
    ) -> None:
        chat = await make_chat(db, lesson.student)
        rows = [
            {
                "session_id": chat.id,
                "role": MessageRole.USER if n % 2 == 0 else MessageRole.ASSISTANT,
                "content": f"m {n}",
                "meta": {"incomplete": True} if n % 2 == 1 and n % 3 == 0 else {},
            }
            for n in range(8 * HISTORY_BATCH)
        ]
        await db.execute(insert(ChatMessage), rows)
        await chain_messages(db, chat.id)
        upto = await newest_id(db, chat)
        window = await history_window(db, chat.id, upto, 100_000)
        assert [row.content for row in window] == [r["content"] for r in rows if not r["meta"]]
        assert len(batch_sizes) == 4  # 1 + 2 + 4 batches' worth read full, then the last 1 of 8


class TestOneTurn:
    async def test_a_turn_on_a_long_conversation_reads_history_in_a_few_statements_and_sends_what_fits(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        lesson: Lesson,
        long_chat: ChatSession,
        anthropic: FakeAnthropic,
        monkeypatch: pytest.MonkeyPatch,
        db_engine: AsyncEngine,
    ) -> None:
        # Before the test's first request: the app caches the effective settings it reads first.
        monkeypatch.setenv("TWOSIGMA_TUTOR_HISTORY_TOKEN_BUDGET", str(BUDGET))
        lesson.student.current_streak_days, lesson.student.last_activity_date = 1, datetime.now(UTC).date()
        await db.flush()

        with count_statements(db_engine) as statements:
            response = await client.post(
                f"{API}/chat/sessions/{long_chat.id}/messages",
                json={"content": "newest"},
                headers=auth_headers(settings, lesson.student),
            )
        assert response.status_code == 200, response.text

        history_reads = [s for s in statements.statements if is_history_read(s)]
        assert 1 <= len(history_reads) <= 6, history_reads

        window = expected_window(conversation("newest"), BUDGET)
        if window[0][0] is MessageRole.ASSISTANT:
            window = window[1:]  # a provider request starts with the user
        expected = [{"role": role.value.lower(), "content": content} for role, content in window]
        sent = anthropic.last_request.json()["messages"]
        assert len(sent) > 900
        assert sent == expected
