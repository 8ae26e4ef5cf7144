"""What a turn costs (meta.cost_usd and the ledger) and the budgets that refuse a turn once they are spent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fakes import FakeAnthropic
from tests.fixtures.factories import auth_headers
from tests.fixtures.prompts import platform_admin
from tests.fixtures.tutor import API, Lesson, make_chat, make_lesson
from tests.governance.conftest import MODEL, TURN_COST
from twosigma.config import Settings
from twosigma.enums import MessageRole
from twosigma.governance.models import CourseTutorPolicy, TutorUsage, UniversityTutorPolicy
from twosigma.governance.services.budgets import day_bounds, month_bounds, zone
from twosigma.governance.services.pricing import DEFAULT_PRICES, Price, cost_usd, price_of
from twosigma.kit.clock import get_now
from twosigma.tutor.models import ChatMessage, ChatSession


@pytest.fixture
async def lesson(db: AsyncSession) -> Lesson:
    return await make_lesson(db)


@pytest.fixture
async def chat(db: AsyncSession, lesson: Lesson) -> ChatSession:
    return await make_chat(db, lesson.student, content_item_id=lesson.item.id)


def freeze(app: FastAPI, when: datetime) -> None:
    app.dependency_overrides[get_now] = lambda: when


async def spend(db: AsyncSession, lesson: Lesson, amount: float, at: datetime, **fields: Any) -> None:
    row = {
        "user_id": lesson.student.id,
        "course_id": lesson.classroom.course.id,
        "university_id": lesson.classroom.campus.university.id,
        "model": MODEL,
        "input_tokens": 1,
        "output_tokens": 1,
        "cost_usd": amount,
        "created_at": at,
    }
    db.add(TutorUsage(**(row | fields)))
    await db.flush()


async def send(client: httpx.AsyncClient, settings: Settings, lesson: Lesson, chat: ChatSession) -> httpx.Response:
    return await client.post(
        f"{API}/chat/sessions/{chat.id}/messages",
        json={"content": "Explain it again"},
        headers=auth_headers(settings, lesson.student),
    )


class TestCostArithmetic:
    def test_a_turns_cost_is_tokens_times_the_price_per_million(self) -> None:
        assert cost_usd(Price(3.0, 15.0), 1_000_000, 0) == 3.0
        assert cost_usd(Price(3.0, 15.0), 42, 7) == pytest.approx(0.000231)
        assert cost_usd(Price(0.15, 0.6), 2000, 500) == pytest.approx(0.0006)

    def test_a_dated_model_takes_the_price_of_its_family_and_an_unknown_one_none(self) -> None:
        assert price_of(DEFAULT_PRICES, "claude-sonnet-5-5-20261001") == DEFAULT_PRICES["claude-sonnet-5-5"]
        assert price_of(DEFAULT_PRICES, "gpt-4o-mini-2024-07-18") == DEFAULT_PRICES["gpt-4o-mini"]
        assert price_of(DEFAULT_PRICES, "mystery-model") is None

    async def test_an_answered_turn_stores_its_cost_in_meta_and_in_the_ledger(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        lesson: Lesson,
        chat: ChatSession,
        anthropic: FakeAnthropic,
    ) -> None:
        r = await send(client, settings, lesson, chat)
        assert r.status_code == 200, r.text
        meta = r.json()["assistant_message"]["meta"]
        assert meta["cost_usd"] == pytest.approx(TURN_COST)
        rows = (await db.scalars(select(TutorUsage).where(TutorUsage.user_id == lesson.student.id))).all()
        assert len(rows) == 1
        row = rows[0]
        assert (row.course_id, row.university_id, row.model) == (
            lesson.classroom.course.id,
            lesson.classroom.campus.university.id,
            MODEL,
        )
        assert (row.input_tokens, row.output_tokens, row.provider) == (42, 7, "anthropic")
        assert row.cost_usd == pytest.approx(TURN_COST)
        assert row.message_id == r.json()["assistant_message"]["id"]

    async def test_a_model_without_a_price_costs_null_and_is_said_to_be_unpriced(
        self,
        client: httpx.AsyncClient,
        settings: Settings,
        lesson: Lesson,
        chat: ChatSession,
        anthropic: FakeAnthropic,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.delenv("TWOSIGMA_LLM_PRICES")
        meta = (await send(client, settings, lesson, chat)).json()["assistant_message"]["meta"]
        assert meta["cost_usd"] is None
        assert meta["price_unknown"] is True

    @pytest.mark.parametrize(
        "value",
        [
            {"m": {"input_per_mtok": -1, "output_per_mtok": 1}},
            {"m": {"input_per_mtok": 1}},
            {"m": 3},
            [1, 2],
            "not json",
        ],
    )
    async def test_a_malformed_price_table_is_refused(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, value: Any
    ) -> None:
        headers = await platform_admin(db, settings)
        r = await client.put(f"{API}/admin/settings/llm.prices", json={"value": value}, headers=headers)
        assert r.status_code == 422, r.text

    async def test_a_price_table_set_by_the_admin_prices_the_next_turn(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        lesson: Lesson,
        chat: ChatSession,
        anthropic: FakeAnthropic,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.delenv("TWOSIGMA_LLM_PRICES")
        headers = await platform_admin(db, settings)
        value = {MODEL: {"input_per_mtok": 1000, "output_per_mtok": 2000}}
        r = await client.put(f"{API}/admin/settings/llm.prices", json={"value": value}, headers=headers)
        assert r.status_code == 200, r.text
        meta = (await send(client, settings, lesson, chat)).json()["assistant_message"]["meta"]
        assert meta["cost_usd"] == pytest.approx((42 * 1000 + 7 * 2000) / 1_000_000)


class TestBudgetBoundaries:
    async def test_the_user_daily_budget_refuses_once_spent_reaches_it_and_not_before(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        lesson: Lesson,
        chat: ChatSession,
        anthropic: FakeAnthropic,
    ) -> None:
        now = datetime(2026, 5, 12, 15, 0, tzinfo=UTC)
        freeze(app, now)
        db.add(CourseTutorPolicy(course_id=lesson.classroom.course.id, user_daily_budget_usd=0.50))
        await spend(db, lesson, 0.499999, now - timedelta(hours=1))
        assert (await send(client, settings, lesson, chat)).status_code == 200
        # The turn that crossed the budget was answered; now spent >= budget.
        refused = await send(client, settings, lesson, chat)
        assert refused.status_code == 429
        error = refused.json()["error"]
        assert error["code"] == "budget_exhausted"
        assert error["details"]["scope"] == "user_daily"
        assert error["details"]["limit_usd"] == 0.5
        assert error["details"]["resets_at"] == "2026-05-13T00:00:00+00:00"
        assert refused.headers["Retry-After"] == str(9 * 3600 + 1)

    async def test_spent_exactly_equal_to_the_budget_is_refused(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        lesson: Lesson,
        chat: ChatSession,
        anthropic: FakeAnthropic,
    ) -> None:
        now = datetime(2026, 5, 12, 15, 0, tzinfo=UTC)
        freeze(app, now)
        db.add(UniversityTutorPolicy(university_id=lesson.classroom.campus.university.id, user_daily_budget_usd=2))
        await spend(db, lesson, 2.0, now - timedelta(minutes=5))
        r = await send(client, settings, lesson, chat)
        assert r.status_code == 429
        assert anthropic.requests == []

    async def test_a_course_monthly_budget_counts_everyone_in_the_course_this_month(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        lesson: Lesson,
        chat: ChatSession,
        anthropic: FakeAnthropic,
    ) -> None:
        now = datetime(2026, 5, 31, 23, 0, tzinfo=UTC)
        freeze(app, now)
        db.add(CourseTutorPolicy(course_id=lesson.classroom.course.id, monthly_budget_usd=10))
        await spend(db, lesson, 9.0, datetime(2026, 5, 1, tzinfo=UTC), user_id=lesson.classroom.campus.ta.id)
        await spend(db, lesson, 30.0, datetime(2026, 4, 30, 23, 59, tzinfo=UTC))  # last month: not counted
        assert (await send(client, settings, lesson, chat)).status_code == 200
        await spend(db, lesson, 1.0, now)
        refused = await send(client, settings, lesson, chat)
        assert refused.status_code == 429
        assert refused.json()["error"]["details"]["scope"] == "course_monthly"
        assert refused.json()["error"]["details"]["resets_at"] == "2026-06-01T00:00:00+00:00"
        freeze(app, datetime(2026, 6, 1, 0, 0, 1, tzinfo=UTC))
        assert (await send(client, settings, lesson, chat)).status_code == 200

    async def test_the_university_budget_caps_the_university_even_when_the_course_sets_its_own(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        lesson: Lesson,
        chat: ChatSession,
        anthropic: FakeAnthropic,
    ) -> None:
        now = datetime(2026, 5, 12, tzinfo=UTC)
        freeze(app, now)
        db.add(UniversityTutorPolicy(university_id=lesson.classroom.campus.university.id, monthly_budget_usd=5))
        db.add(CourseTutorPolicy(course_id=lesson.classroom.course.id, monthly_budget_usd=100))
        await spend(db, lesson, 5.0, now, course_id=None)  # spent elsewhere in the university
        refused = await send(client, settings, lesson, chat)
        assert refused.status_code == 429
        assert refused.json()["error"]["details"]["scope"] == "university_monthly"

    async def test_a_platform_budget_is_each_universitys_and_another_universitys_spend_does_not_count(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        lesson: Lesson,
        chat: ChatSession,
        anthropic: FakeAnthropic,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        now = datetime(2026, 5, 12, tzinfo=UTC)
        freeze(app, now)
        monkeypatch.setenv("TWOSIGMA_TUTOR_MONTHLY_BUDGET_USD", "3")
        other = lesson.classroom.campus.other_university.id
        await spend(db, lesson, 50.0, now, course_id=None, university_id=other, user_id=None)
        assert (await send(client, settings, lesson, chat)).status_code == 200
        await spend(db, lesson, 3.0, now)
        assert (await send(client, settings, lesson, chat)).status_code == 429


class TestTheDayIsTheUsersDay:
    """Los Angeles is UTC-7 in May: the student's day starts at 07:00 UTC."""

    async def test_spend_before_local_midnight_does_not_count_the_next_local_day(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        lesson: Lesson,
        chat: ChatSession,
        anthropic: FakeAnthropic,
    ) -> None:
        lesson.student.time_zone = "America/Los_Angeles"
        db.add(CourseTutorPolicy(course_id=lesson.classroom.course.id, user_daily_budget_usd=1.0))
        # 23:50 on 11 May in Los Angeles; the same UTC day as the turns below.
        await spend(db, lesson, 1.0, datetime(2026, 5, 12, 6, 50, tzinfo=UTC))
        freeze(app, datetime(2026, 5, 12, 6, 55, tzinfo=UTC))  # 23:55 local: still 11 May
        refused = await send(client, settings, lesson, chat)
        assert refused.status_code == 429
        assert refused.json()["error"]["details"]["resets_at"] == "2026-05-12T07:00:00+00:00"
        freeze(app, datetime(2026, 5, 12, 7, 5, tzinfo=UTC))  # 00:05 local on 12 May: a new day
        assert (await send(client, settings, lesson, chat)).status_code == 200

    async def test_a_utc_user_on_the_same_instants_is_still_refused_after_7_utc(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        lesson: Lesson,
        chat: ChatSession,
        anthropic: FakeAnthropic,
    ) -> None:
        db.add(CourseTutorPolicy(course_id=lesson.classroom.course.id, user_daily_budget_usd=1.0))
        await spend(db, lesson, 1.0, datetime(2026, 5, 12, 6, 50, tzinfo=UTC))
        freeze(app, datetime(2026, 5, 12, 7, 5, tzinfo=UTC))
        assert (await send(client, settings, lesson, chat)).status_code == 429

    async def test_the_daily_token_allowance_renews_at_the_users_midnight(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        lesson: Lesson,
        chat: ChatSession,
        anthropic: FakeAnthropic,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """`tutor.tokens_per_day` counts the user's day too, not the UTC day (issue 22)."""
        monkeypatch.setenv("TWOSIGMA_TUTOR_TOKENS_PER_DAY", "1000")
        lesson.student.time_zone = "America/Los_Angeles"
        # 1000 tokens at 23:50 on 11 May in Los Angeles: on 12 May in UTC, the day the turns below are in.
        db.add(
            ChatMessage(
                session_id=chat.id,
                role=MessageRole.ASSISTANT,
                content="an earlier, long answer",
                meta={"input_tokens": 900, "output_tokens": 100},
                created_at=datetime(2026, 5, 12, 6, 50, tzinfo=UTC),
            )
        )
        await db.flush()
        freeze(app, datetime(2026, 5, 12, 6, 55, tzinfo=UTC))  # 23:55 local: still 11 May, allowance spent
        refused = await send(client, settings, lesson, chat)
        assert refused.status_code == 429
        error = refused.json()["error"]
        assert error["code"] == "tutor_token_limit"
        assert error["details"]["resets_at"] == "2026-05-12T07:00:00+00:00"
        assert error["details"]["time_zone"] == "America/Los_Angeles"
        assert "midnight in your time zone (America/Los_Angeles), 2026-05-12T00:00:00-07:00" in error["message"]
        assert 1 <= int(refused.headers["Retry-After"]) <= 301
        freeze(app, datetime(2026, 5, 12, 7, 5, tzinfo=UTC))  # 00:05 local on 12 May: a new allowance
        assert (await send(client, settings, lesson, chat)).status_code == 200

    async def test_a_utc_user_keeps_the_utc_day_for_tokens(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        lesson: Lesson,
        chat: ChatSession,
        anthropic: FakeAnthropic,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setenv("TWOSIGMA_TUTOR_TOKENS_PER_DAY", "1000")
        db.add(
            ChatMessage(
                session_id=chat.id,
                role=MessageRole.ASSISTANT,
                content="an earlier, long answer",
                meta={"input_tokens": 1000, "output_tokens": 0},
                created_at=datetime(2026, 5, 12, 6, 50, tzinfo=UTC),
            )
        )
        await db.flush()
        freeze(app, datetime(2026, 5, 12, 7, 5, tzinfo=UTC))
        refused = await send(client, settings, lesson, chat)
        assert refused.status_code == 429
        assert refused.json()["error"]["details"]["resets_at"] == "2026-05-13T00:00:00+00:00"

    def test_day_bounds_follow_daylight_saving(self) -> None:
        berlin = zone("Europe/Berlin")
        start, end = day_bounds(datetime(2026, 3, 29, 12, 0, tzinfo=UTC), berlin)  # clocks go forward that night
        assert (start, end) == (datetime(2026, 3, 28, 23, 0, tzinfo=UTC), datetime(2026, 3, 29, 22, 0, tzinfo=UTC))
        assert zone("Not/AZone") == zone("UTC")

    def test_month_bounds_roll_over_the_year(self) -> None:
        assert month_bounds(datetime(2026, 12, 31, 23, 59, tzinfo=UTC)) == (
            datetime(2026, 12, 1, tzinfo=UTC),
            datetime(2027, 1, 1, tzinfo=UTC),
        )
