"""The claim loop's statements over any job table, and the backoff between attempts.

A job table has the columns `id`, `status`, `attempts`, `next_attempt_at`, `lease_until`, `last_error` (the mail
outbox is the first; embeddings, grade passback and exports reuse it). A domain describes its table with a
`JobTable` and runs these statements on its own rows:

1. `claim` (its own short transaction): `UPDATE … SET status = running, lease_until = now + lease,
   attempts = attempts + 1 WHERE id IN (SELECT id … WHERE due ORDER BY next_attempt_at LIMIT n FOR UPDATE SKIP
   LOCKED) RETURNING id, attempts`. Concurrent claimers (threads, processes, machines) skip each other's locked
   rows, so a row is claimed by one worker at a time; the `attempts` it returns is the claim's fencing token.
2. the work, outside any transaction;
3. `complete` or `retry` (another short transaction), both fenced by `(id, attempts)`: a worker whose claim was
   taken over (its lease expired and the row was reclaimed) changes nothing.

A claim whose lease expires (the worker died mid-job) is taken up again only when the table says its work is
idempotent (`reclaim_expired`); otherwise `sweep_expired` moves it to failed with an "outcome unknown" error, so
work with an outside effect (a mail) is never done twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Row, Table, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class JobTable:
    table: Table
    pending: str = "PENDING"
    running: str = "RUNNING"
    done: str = "DONE"
    failed: str = "FAILED"
    max_attempts: int = 8
    lease: timedelta = timedelta(minutes=5)
    base_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(hours=6)
    # Whether a claim whose lease expired may simply run again (idempotent work), or must be swept to failed.
    reclaim_expired: bool = False


def backoff(job: JobTable, attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: base, 2 x base, 4 x base, ... capped at max_delay."""
    delay: timedelta = job.base_delay * (2 ** max(0, attempts - 1))
    return min(delay, job.max_delay)


async def claim(session: AsyncSession, job: JobTable, now: datetime, limit: int) -> Sequence[Row[tuple[int, int]]]:
    """Claim up to `limit` due jobs for this worker: their (id, attempts), attempts counting this one."""
    t = job.table
    due = and_(t.c.status == job.pending, t.c.next_attempt_at <= now)
    if job.reclaim_expired:
        due = or_(due, and_(t.c.status == job.running, t.c.lease_until <= now))
    picked = (
        select(t.c.id).where(due).order_by(t.c.next_attempt_at, t.c.id).limit(limit).with_for_update(skip_locked=True)
    )
    stmt = (
        update(t)
        .where(t.c.id.in_(picked.scalar_subquery()))
        .values(status=job.running, lease_until=now + job.lease, attempts=t.c.attempts + 1)
        .returning(t.c.id, t.c.attempts)
    )
    rows = (await session.execute(stmt)).all()
    return sorted(rows, key=lambda row: row.id)


async def complete(session: AsyncSession, job: JobTable, job_id: int, attempts: int, **values: object) -> bool:
    """Mark a claimed job done (with `values` for the table's own columns); False when the claim was lost."""
    t = job.table
    result = await session.execute(
        update(t)
        .where(t.c.id == job_id, t.c.attempts == attempts, t.c.status.in_((job.running, job.failed)))
        .values(status=job.done, lease_until=None, last_error=None, **values)
    )
    return bool(getattr(result, "rowcount", 0))


async def retry(
    session: AsyncSession, job: JobTable, job_id: int, attempts: int, error: str, now: datetime, *, permanent: bool
) -> str | None:
    """Record a failed attempt: back to pending after the backoff, or failed when `permanent` or out of attempts.
    The status it moved to, or None when the claim was lost."""
    t = job.table
    give_up = permanent or attempts >= job.max_attempts
    status = job.failed if give_up else job.pending
    result = await session.execute(
        update(t)
        .where(t.c.id == job_id, t.c.attempts == attempts, t.c.status == job.running)
        .values(
            status=status,
            lease_until=None,
            last_error=error[:1000],
            next_attempt_at=now if give_up else now + backoff(job, attempts),
        )
    )
    return status if getattr(result, "rowcount", 0) else None


async def sweep_expired(session: AsyncSession, job: JobTable, now: datetime) -> int:
    """Jobs whose worker vanished mid-job (lease expired) in a table whose work must not run twice: failed, with
    the reason. Nothing to do for idempotent tables (their claim takes such rows up again)."""
    if job.reclaim_expired:
        return 0
    t = job.table
    result = await session.execute(
        update(t)
        .where(t.c.status == job.running, t.c.lease_until <= now)
        .values(
            status=job.failed,
            lease_until=None,
            last_error="Outcome unknown: the worker stopped while this job ran (it is not retried, so it cannot "
            "happen twice).",
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
