"""Daily activity streaks, as pure functions of dates (SPEC "Progress and streaks").

Days are the user's local days: compute `today` with `local_today(user.time_zone, now)`. A progress write or a
chat message is activity; callers store the pair returned by `next_streak` on the user row.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def local_today(time_zone: str, now: datetime | None = None) -> date:
    """The calendar date in `time_zone` at instant `now` (default: the current time). Unknown zones count as UTC."""
    instant = now or datetime.now(UTC)
    if instant.tzinfo is None:
        raise ValueError("`now` must be timezone-aware.")
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return instant.astimezone(zone).date()


def next_streak(current: int, last_date: date | None, today: date) -> tuple[int, date]:
    """The (streak, last_activity_date) after activity on `today`.

    Same local day → no change; the next day → +1; any other gap (or no activity yet) → 1. A `last_date` after
    `today` (the user moved to a time zone that is behind) counts as the same day, so a streak never drops
    because of a time-zone change.
    """
    if last_date is not None and last_date >= today:
        return max(current, 1), last_date
    if last_date is not None and last_date == today - timedelta(days=1):
        return current + 1, today
    return 1, today


def effective_streak(current: int, last_date: date | None, today: date) -> int:
    """The streak a read reports: the stored one while it is alive (activity today or yesterday), else 0."""
    if last_date is None:
        return 0
    if last_date >= today - timedelta(days=1):
        return current
    return 0
