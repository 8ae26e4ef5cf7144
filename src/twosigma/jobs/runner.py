"""The background runner: every registered queue drained in a loop by the server, or once by a test or command.

A queue is a name and a `batch` function: `await batch(database, now)` claims and handles one batch of due jobs
(each in its own transactions, see queue.py) and returns how many it handled; 0 means nothing is due. `drain`
runs batches until one handles nothing, then records the drain in `job_queue_runs` (when, how many), which a
`doctor` command reads to tell a stalled worker from an idle queue.

Any number of processes may run the loop at once: claims use `FOR UPDATE SKIP LOCKED`, so they share the work.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert

from twosigma.db.engine import Database
from twosigma.jobs.models import JobQueueRun

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Batch = Callable[[Database, datetime], Awaitable[int]]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Queue:
    name: str
    batch: Batch


class JobRunner:
    def __init__(self, queues: Sequence[Queue], *, interval_seconds: float = 5.0, clock: Clock = utc_now) -> None:
        self.queues = {queue.name: queue for queue in queues}
        self.interval_seconds = interval_seconds
        self.clock = clock
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    async def drain(self, database: Database, name: str, *, max_batches: int = 1000) -> int:
        """Run batches of `name` until one handles nothing (or `max_batches`); the jobs handled."""
        queue = self.queues[name]
        handled = 0
        for _ in range(max_batches):
            count = await queue.batch(database, self.clock())
            handled += count
            if count == 0:
                break
        await record_drain(database, name, self.clock(), handled)
        return handled

    async def drain_all(self, database: Database) -> dict[str, int]:
        return {name: await self.drain(database, name) for name in self.queues}

    def start(self, database: Database) -> None:
        """Start the loop as a background task of the running event loop (the server's lifespan)."""
        if self._task is None:
            self._stopping.clear()
            self._task = asyncio.create_task(self._loop(database), name="twosigma-jobs")

    async def stop(self, timeout_seconds: float = 10.0) -> None:
        """Let the batch in hand finish (up to `timeout_seconds`), then stop. A job cut off mid-way keeps its
        lease and is dealt with as a vanished worker's (queue.py)."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping.set()
        try:
            await asyncio.wait_for(task, timeout_seconds)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _loop(self, database: Database) -> None:
        while not self._stopping.is_set():
            for name in self.queues:
                if self._stopping.is_set():
                    break
                try:
                    await self.drain(database, name)
                except Exception:
                    # A database that is down, a bug in one queue: log, and try again next round.
                    logger.exception("job queue %s failed to drain", name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.interval_seconds)


async def record_drain(database: Database, name: str, at: datetime, handled: int) -> None:
    async with database.sessionmaker() as session, session.begin():
        stmt = insert(JobQueueRun).values(queue=name, last_drained_at=at, last_processed=handled, drains=1)
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=["queue"],
                set_={
                    "last_drained_at": func.greatest(JobQueueRun.last_drained_at, stmt.excluded.last_drained_at),
                    "last_processed": stmt.excluded.last_processed,
                    "drains": JobQueueRun.drains + 1,
                },
            )
        )
