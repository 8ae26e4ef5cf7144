from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.factories import auth_headers, make_user
from twosigma.config import Settings
from twosigma.users.streaks import local_today

STREAK = "/api/v1/users/me/streak"


class TestStreakRoute:
    async def test_a_new_user_has_no_streak(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        user = await make_user(db)
        response = await client.get(STREAK, headers=auth_headers(settings, user))
        assert response.status_code == 200
        assert response.json() == {"current_streak_days": 0, "last_activity_date": None, "time_zone": "UTC"}

    async def test_activity_yesterday_in_the_users_zone_keeps_the_streak(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        zone = "Pacific/Kiritimati"  # UTC+14: its "yesterday" is often UTC's today
        yesterday = local_today(zone, datetime.now(UTC)) - timedelta(days=1)
        user = await make_user(db, time_zone=zone, current_streak_days=5, last_activity_date=yesterday)
        body = (await client.get(STREAK, headers=auth_headers(settings, user))).json()
        assert body == {"current_streak_days": 5, "last_activity_date": yesterday.isoformat(), "time_zone": zone}

    async def test_a_missed_day_reads_zero_but_keeps_the_date(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        zone = "America/Los_Angeles"
        stale = local_today(zone, datetime.now(UTC)) - timedelta(days=2)
        user = await make_user(db, time_zone=zone, current_streak_days=5, last_activity_date=stale)
        body = (await client.get(STREAK, headers=auth_headers(settings, user))).json()
        assert body["current_streak_days"] == 0
        assert body["last_activity_date"] == stale.isoformat()

    async def test_requires_a_token(self, client: httpx.AsyncClient) -> None:
        assert (await client.get(STREAK)).status_code == 401
