"""GET /admin/analytics/tutor-usage: tokens, cost, turns and active students from the ledger, grouped, and the
budgets in scope with their 80 % threshold."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.authz.access.governance import usage_scope
from twosigma.authz.principal import Principal
from twosigma.governance import repository as repo
from twosigma.governance.schemas import BudgetStatus, TutorUsageReport, UsageGroupBy, UsageRow
from twosigma.governance.services import flags
from twosigma.governance.services.budgets import month_bounds
from twosigma.kit.errors import Invalid

THRESHOLD = 0.8
MAX_DAYS = 366


def _window(since: date | None, until: date | None, now: datetime) -> tuple[date, date]:
    """Default: this calendar month (UTC) so far. Both ends inclusive, at most a year."""
    today = now.astimezone(UTC).date()
    until = until or today
    since = since or until.replace(day=1)
    if since > until:
        raise Invalid("from must not be after to.", code="invalid_range")
    if (until - since).days >= MAX_DAYS:
        raise Invalid(f"A report covers at most {MAX_DAYS} days.", code="invalid_range")
    return since, until


def _budget(scope: str, university_id: int, course_id: int | None, limit: float, spent: float) -> BudgetStatus:
    ratio = spent / limit if limit > 0 else 1.0
    return BudgetStatus(
        scope=scope,  # type: ignore[arg-type]
        university_id=university_id,
        course_id=course_id,
        limit_usd=limit,
        spent_usd=round(spent, 6),
        ratio=round(ratio, 4),
        threshold_reached=ratio >= THRESHOLD,
        exhausted=spent >= limit,
    )


async def _budgets(
    session: AsyncSession, university_id: int | None, course_id: int | None, now: datetime
) -> list[BudgetStatus]:
    start, end = month_bounds(now)
    statuses: list[BudgetStatus] = []
    if course_id is None:
        universities = await repo.university_budgets(session, university_id)
        ids = [uni.university_id for uni in universities]
        spent = await repo.spent_by_each(session, "university_id", ids, start, end)
        for uni in universities:
            limit = uni.monthly_budget_usd or 0
            used = spent.get(uni.university_id, 0.0)
            statuses.append(_budget("university_monthly", uni.university_id, None, limit, used))
    courses = await repo.course_budgets(session, university_id, course_id)
    spent = await repo.spent_by_each(session, "course_id", [course.course_id for course in courses], start, end)
    for course in courses:
        limit = course.monthly_budget_usd or 0
        used = spent.get(course.course_id, 0.0)
        statuses.append(_budget("course_monthly", course.university_id, course.course_id, limit, used))
    return statuses


async def tutor_usage(
    session: AsyncSession,
    principal: Principal,
    *,
    university_id: int | None,
    course_id: int | None,
    since: date | None,
    until: date | None,
    group_by: UsageGroupBy,
    now: datetime,
) -> TutorUsageReport:
    scope = await usage_scope(session, principal, university_id, course_id)
    first, last = _window(since, until, now)
    start = datetime.combine(first, time(), tzinfo=UTC)
    end = datetime.combine(last + timedelta(days=1), time(), tzinfo=UTC)
    rows = [
        UsageRow(
            key=row.key.isoformat() if isinstance(row.key, date) else row.key,
            label=row.label.isoformat() if isinstance(row.label, date) else row.label,
            input_tokens=int(row.input_tokens),
            output_tokens=int(row.output_tokens),
            cost_usd=round(float(row.cost_usd), 6),
            turns=int(row.turns),
            active_students=int(row.active_students),
        )
        for row in await repo.usage_groups(session, group_by.value, scope.university_id, scope.course_id, start, end)
    ]
    totals = await repo.usage_totals(session, scope.university_id, scope.course_id, start, end)
    return TutorUsageReport(
        university_id=scope.university_id,
        course_id=scope.course_id,
        since=first,
        until=last,
        group_by=group_by,
        rows=rows,
        totals=UsageRow(
            key=None,
            label="total",
            input_tokens=int(totals.input_tokens),
            output_tokens=int(totals.output_tokens),
            cost_usd=round(float(totals.cost_usd), 6),
            turns=int(totals.turns),
            active_students=int(totals.active_students),
        ),
        budgets=await _budgets(session, scope.university_id, scope.course_id, now),
        flags=await flags.counts(session, scope.university_id, scope.course_id, start, end),
    )


CSV_COLUMNS = ("key", "label", "input_tokens", "output_tokens", "cost_usd", "turns", "active_students")


def csv_lines(report: TutorUsageReport) -> Iterator[str]:
    """A header, one line per group, and the totals line."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(values: list[object]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(values)
        return buffer.getvalue()

    yield line([report.group_by.value, *CSV_COLUMNS[1:]])
    for row in [*report.rows, report.totals]:
        values = [getattr(row, column) for column in CSV_COLUMNS]
        yield line(["" if value is None else _cell(value) for value in values])


def _cell(value: object) -> object:
    """Names and titles are user input: one a spreadsheet would run as a formula is quoted (OWASP CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
