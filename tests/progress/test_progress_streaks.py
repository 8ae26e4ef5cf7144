"""A progress write is activity: the streak follows the user's local days, with "now" frozen through get_now."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.content import make_classroom, make_content_item, root_of
from tests.fixtures.factories import auth_headers
from twosigma.config import Settings
from twosigma.kit.clock import get_now
from twosigma.users.streaks import effective_streak


async def write_at(
    client: httpx.AsyncClient, app: FastAPI, headers: dict[str, str], url: str, when: datetime
) -> tuple[int, str]:
    app.dependency_overrides[get_now] = lambda: when
    r = await client.put(url, json={"progress_percent": 10}, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["current_streak_days"], r.json()["last_activity_date"]


class TestStreakOnProgress:
    @pytest.mark.parametrize(
        ("time_zone", "before_midnight", "after_midnight", "later_same_day", "local_days"),
        [
            # New York is UTC-4 in March 2025: 03:30Z is 23:30 on the 9th, 04:30Z is 00:30 on the 10th.
            (
                "America/New_York",
                datetime(2025, 3, 10, 3, 30, tzinfo=UTC),
                datetime(2025, 3, 10, 4, 30, tzinfo=UTC),
                datetime(2025, 3, 10, 20, 0, tzinfo=UTC),
                ("2025-03-09", "2025-03-10"),
            ),
            # Tokyo is UTC+9: 14:30Z is 23:30 on the 10th, 15:30Z is 00:30 on the 11th — the same UTC day.
            (
                "Asia/Tokyo",
                datetime(2025, 3, 10, 14, 30, tzinfo=UTC),
                datetime(2025, 3, 10, 15, 30, tzinfo=UTC),
                datetime(2025, 3, 11, 14, 0, tzinfo=UTC),
                ("2025-03-10", "2025-03-11"),
            ),
        ],
    )
    async def test_crossing_local_midnight_adds_a_day_and_the_same_local_day_does_not(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        app: FastAPI,
        time_zone: str,
        before_midnight: datetime,
        after_midnight: datetime,
        later_same_day: datetime,
        local_days: tuple[str, str],
    ) -> None:
        room = await make_classroom(db)
        room.enrolled.time_zone = time_zone
        await db.flush()
        item = await make_content_item(db, module=await root_of(db, room.course), content_type=room.content_type)
        url = f"/api/v1/offerings/{room.campus.offering.id}/progress/content-items/{item.id}"
        headers = auth_headers(settings, room.enrolled)
        assert await write_at(client, app, headers, url, before_midnight) == (1, local_days[0])
        assert await write_at(client, app, headers, url, after_midnight) == (2, local_days[1])
        assert await write_at(client, app, headers, url, later_same_day) == (2, local_days[1])

    async def test_a_missed_day_restarts_the_streak_at_one_and_reads_report_zero_meanwhile(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, app: FastAPI
    ) -> None:
        room = await make_classroom(db)
        room.enrolled.time_zone = "Europe/Paris"
        room.enrolled.current_streak_days = 5
        room.enrolled.last_activity_date = date(2025, 6, 1)
        await db.flush()
        item = await make_content_item(db, module=await root_of(db, room.course), content_type=room.content_type)
        url = f"/api/v1/offerings/{room.campus.offering.id}/progress/content-items/{item.id}"
        # On 3 June (Paris) the 5-day streak is dead: a read reports 0, the next write starts again at 1.
        assert effective_streak(5, date(2025, 6, 1), date(2025, 6, 3)) == 0
        got = await write_at(
            client, app, auth_headers(settings, room.enrolled), url, datetime(2025, 6, 3, 8, 0, tzinfo=UTC)
        )
        assert got == (1, "2025-06-03")

    async def test_activity_on_the_next_day_extends_a_stored_streak(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, app: FastAPI
    ) -> None:
        room = await make_classroom(db)
        room.enrolled.current_streak_days = 5
        room.enrolled.last_activity_date = date(2025, 6, 1)
        await db.flush()
        item = await make_content_item(db, module=await root_of(db, room.course), content_type=room.content_type)
        url = f"/api/v1/offerings/{room.campus.offering.id}/progress/content-items/{item.id}"
        got = await write_at(
            client, app, auth_headers(settings, room.enrolled), url, datetime(2025, 6, 2, 23, 59, tzinfo=UTC)
        )
        assert got == (6, "2025-06-02")
