"""The index backfill: a server that starts on an install whose published items lack chunks indexes them in the
background, so an upgrade (content written before the index existed, rows restored from a dump or written around
the service) needs no operator step. `twosigma index rebuild` stays for everything else (a new embedding model, a
repair by hand).

The `retrieval-backfill` queue of the generic runner (jobs/runner.py), without a table of its own:
- a batch finds the courses with a published item lacking chunks (one statement), and takes the first it can lock
  with `pg_try_advisory_xact_lock(BACKFILL_LOCK, course_id)`: another process backfilling that course is skipped,
  so concurrent servers share courses and never index one item twice;
- under that lock, in the same transaction, it indexes up to ITEMS_PER_BATCH of the course's missing items (the
  content service's own `index_items`: chunks, and an embedding job each) and commits; the next batch starts over;
- it is done once no published item lacks chunks. Every published item gets at least one chunk (its title when
  it has no text), so an indexed item never shows up again and the backfill ends; the process then stops looking
  (one flag per process): content written later is indexed by the service in its own transaction.
A batch that fails (a concurrent content write of the same item) is logged by the runner and the course taken up
again on the next round. Requests never wait: the runner is a background task, each batch one short transaction.
"""

from __future__ import annotations

import logging
from datetime import datetime

from twosigma.db.engine import Database
from twosigma.jobs.runner import Queue
from twosigma.retrieval import repository as repo
from twosigma.retrieval.services.indexing import index_items

logger = logging.getLogger(__name__)

QUEUE_NAME = "retrieval-backfill"
# Small: the chunking runs on the server's event loop, so a batch must not stall the requests it serves for long.
ITEMS_PER_BATCH = 25


async def backfill_batch(database: Database) -> int:
    """Index one batch of one course's published items that lack chunks; the items indexed (0: nothing to do,
    or every course with such items is being backfilled by another process)."""
    async with database.sessionmaker() as session, session.begin():
        for course_id in await repo.courses_with_unindexed_items(session):
            if not await repo.lock_course_for_backfill(session, course_id):
                continue
            # Read after the lock: a batch another process committed meanwhile is seen, not repeated.
            missing = await repo.unindexed_items_of_course(session, course_id, ITEMS_PER_BATCH)
            if not missing:
                continue
            await index_items(session, missing)
            logger.info("retrieval backfill: course %d, %d items indexed", course_id, len(missing))
            return len(missing)
    return 0


def backfill_queue() -> Queue:
    finished = False

    async def batch(database: Database, now: datetime) -> int:
        nonlocal finished
        if finished:
            return 0
        handled = await backfill_batch(database)
        if handled == 0:
            async with database.sessionmaker() as session:
                finished = await repo.unindexed_item_count(session) == 0
        return handled

    return Queue(QUEUE_NAME, batch)
