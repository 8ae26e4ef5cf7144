"""Budgets: a university's and a course's spend per calendar month (UTC), a user's per day in the user's time zone.

A turn is refused once the amount spent has REACHED the budget (spent >= budget): the turn that crosses it is
answered — its cost is known only afterwards — and the next one is refused with 429 `budget_exhausted`, saying when
the budget renews. A budget of 0 refuses every turn.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.governance import repository as repo
from twosigma.governance.services.policy import EffectivePolicy
from twosigma.kit.errors import RateLimited


class BudgetExhausted(RateLimited):
    code = "budget_exhausted"
    default_message = "The tutor's budget is used up."


def zone(name: str | None) -> ZoneInfo:
    """The user's time zone; an unknown name counts as UTC."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def day_bounds(now: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The user's local day holding `now`, as UTC instants [start, end). A day of 23 or 25 hours (DST) is right:
    each bound is a local midnight converted on its own."""
    local = now.astimezone(tz)
    start = datetime(local.year, local.month, local.day, tzinfo=tz)
    following = (local + timedelta(days=1)).date()
    end = datetime(following.year, following.month, following.day, tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def month_bounds(now: datetime) -> tuple[datetime, datetime]:
    """The calendar month (UTC) holding `now`."""
    utc = now.astimezone(UTC)
    start = datetime(utc.year, utc.month, 1, tzinfo=UTC)
    end = datetime(utc.year + (utc.month == 12), utc.month % 12 + 1, 1, tzinfo=UTC)
    return start, end


@dataclass(frozen=True)
class BudgetState:
    scope: str  # "university_monthly", "course_monthly", "user_daily"
    limit_usd: float
    spent_usd: float
    resets_at: datetime

    @property
    def exhausted(self) -> bool:
        return self.spent_usd >= self.limit_usd

    @property
    def ratio(self) -> float:
        return self.spent_usd / self.limit_usd if self.limit_usd > 0 else 1.0


async def budget_states(
    session: AsyncSession, policy: EffectivePolicy, user_id: int, time_zone: str | None, now: datetime
) -> list[BudgetState]:
    """Every budget that applies to a turn of `user_id` under `policy`, with what has been spent against it."""
    states: list[BudgetState] = []
    month_start, month_end = month_bounds(now)
    university_limit = policy.university_monthly_budget_usd.value
    if policy.university_id is not None and university_limit is not None:
        spent = await repo.spent_by_university(session, policy.university_id, month_start, month_end)
        states.append(BudgetState("university_monthly", float(university_limit), spent, month_end))
    course_limit = policy.monthly_budget_usd
    if policy.course_id is not None and course_limit.source == "course" and course_limit.value is not None:
        spent = await repo.spent_by_course(session, policy.course_id, month_start, month_end)
        states.append(BudgetState("course_monthly", float(course_limit.value), spent, month_end))
    daily = policy.user_daily_budget_usd.value
    if daily is not None:
        day_start, day_end = day_bounds(now, zone(time_zone))
        spent = await repo.spent_by_user(session, user_id, day_start)
        states.append(BudgetState("user_daily", float(daily), spent, day_end))
    return states


_WHOSE = {
    "university_monthly": "Your university's tutor budget for this month",
    "course_monthly": "This course's tutor budget for this month",
    "user_daily": "Your tutor budget for today",
}


async def ensure_within_budget(
    session: AsyncSession, policy: EffectivePolicy, user_id: int, time_zone: str | None, now: datetime
) -> None:
    for state in await budget_states(session, policy, user_id, time_zone, now):
        if state.exhausted:
            raise BudgetExhausted(
                f"{_WHOSE[state.scope]} is used up; it renews at {state.resets_at.isoformat()}.",
                retry_after=int((state.resets_at - now).total_seconds()) + 1,
                details={
                    "scope": state.scope,
                    "limit_usd": state.limit_usd,
                    "spent_usd": round(state.spent_usd, 6),
                    "resets_at": state.resets_at.isoformat(),
                },
            )
