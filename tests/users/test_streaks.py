"""The pure streak rules, across local midnight in two time zones."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from twosigma.users.streaks import effective_streak, local_today, next_streak

NEW_YORK = "America/New_York"
TOKYO = "Asia/Tokyo"


class TestLocalToday:
    def test_one_instant_is_two_dates_in_new_york_and_tokyo(self) -> None:
        instant = datetime(2024, 3, 10, 4, 30, tzinfo=UTC)  # 23:30 on the 9th in New York, 13:30 on the 10th in Tokyo
        assert local_today(NEW_YORK, instant) == date(2024, 3, 9)
        assert local_today(TOKYO, instant) == date(2024, 3, 10)

    def test_the_date_changes_at_local_midnight(self) -> None:
        before = datetime(2024, 6, 1, 14, 59, tzinfo=UTC)  # 23:59 in Tokyo
        after = before + timedelta(minutes=2)  # 00:01 in Tokyo
        assert local_today(TOKYO, after) - local_today(TOKYO, before) == timedelta(days=1)

    def test_an_unknown_zone_counts_as_utc(self) -> None:
        assert local_today("Nowhere/Special", datetime(2024, 1, 1, 23, 0, tzinfo=UTC)) == date(2024, 1, 1)

    def test_a_naive_instant_is_refused(self) -> None:
        with pytest.raises(ValueError, match="timezone-aware"):
            local_today(TOKYO, datetime(2024, 1, 1))


class TestNextStreak:
    def test_first_activity_starts_a_streak_of_one(self) -> None:
        assert next_streak(0, None, date(2024, 1, 5)) == (1, date(2024, 1, 5))

    def test_same_day_changes_nothing(self) -> None:
        assert next_streak(4, date(2024, 1, 5), date(2024, 1, 5)) == (4, date(2024, 1, 5))

    def test_the_next_day_adds_one(self) -> None:
        assert next_streak(4, date(2024, 1, 5), date(2024, 1, 6)) == (5, date(2024, 1, 6))

    def test_a_missed_day_starts_over(self) -> None:
        assert next_streak(4, date(2024, 1, 5), date(2024, 1, 7)) == (1, date(2024, 1, 7))

    def test_a_last_date_ahead_of_today_counts_as_the_same_day(self) -> None:
        assert next_streak(3, date(2024, 1, 6), date(2024, 1, 5)) == (3, date(2024, 1, 6))

    @pytest.mark.parametrize("zone", [NEW_YORK, TOKYO])
    def test_activity_either_side_of_local_midnight_extends_the_streak(self, zone: str) -> None:
        offset = datetime(2024, 6, 1, 12, tzinfo=UTC).astimezone(ZoneInfo(zone)).utcoffset()
        assert offset is not None
        local_midnight_utc = datetime(2024, 6, 2, tzinfo=UTC) - offset
        late = local_midnight_utc - timedelta(minutes=5)
        early = local_midnight_utc + timedelta(minutes=5)
        streak, last = next_streak(2, date(2024, 5, 31), local_today(zone, late))
        assert (streak, last) == (3, date(2024, 6, 1))
        assert next_streak(streak, last, local_today(zone, early)) == (4, date(2024, 6, 2))

    def test_the_same_instants_mean_different_things_in_two_zones(self) -> None:
        # 14:55 and 15:05 UTC: either side of midnight in Tokyo, the same morning in New York.
        late, early = datetime(2024, 6, 1, 14, 55, tzinfo=UTC), datetime(2024, 6, 1, 15, 5, tzinfo=UTC)
        tokyo = next_streak(*next_streak(0, None, local_today(TOKYO, late)), local_today(TOKYO, early))
        new_york = next_streak(*next_streak(0, None, local_today(NEW_YORK, late)), local_today(NEW_YORK, early))
        assert tokyo == (2, date(2024, 6, 2))
        assert new_york == (1, date(2024, 6, 1))


class TestEffectiveStreak:
    def test_no_activity_reads_zero(self) -> None:
        assert effective_streak(0, None, date(2024, 1, 5)) == 0

    def test_activity_today_reads_the_stored_streak(self) -> None:
        assert effective_streak(6, date(2024, 1, 5), date(2024, 1, 5)) == 6

    def test_activity_yesterday_still_reads_the_stored_streak(self) -> None:
        assert effective_streak(6, date(2024, 1, 4), date(2024, 1, 5)) == 6

    def test_a_missed_day_reads_zero(self) -> None:
        assert effective_streak(6, date(2024, 1, 3), date(2024, 1, 5)) == 0

    @pytest.mark.parametrize(("zone", "expected"), [(NEW_YORK, 6), (TOKYO, 0)])
    def test_whether_a_day_was_missed_depends_on_the_zone(self, zone: str, expected: int) -> None:
        # 02:00 UTC on the 7th: still the 6th in New York (yesterday was the 5th), already the 7th in Tokyo.
        now = datetime(2024, 1, 7, 2, 0, tzinfo=UTC)
        assert effective_streak(6, date(2024, 1, 5), local_today(zone, now)) == expected
