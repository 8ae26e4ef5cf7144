"""The index backfill: published items written behind the service's back (as an upgrade leaves them: content from
before the index existed) are indexed by the `retrieval-backfill` queue once the runner drains, with no operator
step; two runners draining at once (two server processes) index each item once. A scratch database of its own:
the drains commit, on connections of their own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, text

from tests.fixtures.content import make_content_item, make_module, root_of
from tests.fixtures.courses import make_campus
from tests.fixtures.taxonomy import make_content_type
from tests.reliability.scratch import scratch_database
from twosigma.config import Settings
from twosigma.db.engine import Database
from twosigma.jobs.runner import JobRunner
from twosigma.retrieval.services import backfill
from twosigma.retrieval.services.backfill import QUEUE_NAME, backfill_queue


@pytest.fixture
async def scratch(server_url: str, settings: Settings) -> AsyncIterator[Database]:
    async with scratch_database(server_url, settings) as url:
        database = Database.from_url(url, settings)
        try:
            yield database
        finally:
            await database.dispose()


async def seed(database: Database, courses: int, items: int, *, unpublished: int = 0) -> list[int]:
    """`courses` courses with `items` published items each (and `unpublished` items under an unpublished
    module), inserted straight into the tables: nothing indexed."""
    ids: list[int] = []
    async with database.sessionmaker() as db, db.begin():
        kind = await make_content_type(db)
        for c in range(courses):
            campus = await make_campus(db)
            module = await make_module(db, parent=await root_of(db, campus.course))
            for i in range(items):
                await make_content_item(db, module=module, content_type=kind, data_json={"body": f"Upgrade {c} {i}."})
            hidden = await make_module(db, parent=await root_of(db, campus.course), is_published=False)
            for _ in range(unpublished):
                await make_content_item(db, module=hidden, content_type=kind, data_json={"body": "Draft."})
            ids.append(campus.course.id)
    return ids


async def chunk_counts(database: Database) -> dict[int, int]:
    """Content item → its chunks."""
    async with database.engine.connect() as conn:
        rows = await conn.execute(text("SELECT content_item_id, count(*) AS n FROM retrieval_chunks GROUP BY 1"))
        return {row.content_item_id: row.n for row in rows}


async def published_items(database: Database) -> set[int]:
    async with database.engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT i.id FROM content_items i JOIN modules m ON m.id = i.module_id WHERE m.is_published")
        )
        return {row.id for row in rows}


async def test_items_written_behind_the_service_are_indexed_once_the_runner_drains(scratch: Database) -> None:
    await seed(scratch, courses=2, items=3, unpublished=2)
    assert await chunk_counts(scratch) == {}
    runner = JobRunner([backfill_queue()])
    assert await runner.drain(scratch, QUEUE_NAME) == 6
    counts = await chunk_counts(scratch)
    assert set(counts) == await published_items(scratch)  # every published item, no draft
    assert all(n == 1 for n in counts.values())
    async with scratch.engine.connect() as conn:
        jobs = await conn.scalar(text("SELECT count(*) FROM retrieval_embedding_jobs"))
    assert jobs == 6  # and each is queued for embeddings, as an item written through the service is


async def test_the_backfill_works_in_batches_and_then_stops_looking(
    scratch: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seed(scratch, courses=1, items=5)
    monkeypatch.setattr(backfill, "ITEMS_PER_BATCH", 2)
    queue = backfill_queue()
    handled = []
    for _ in range(4):
        handled.append(await queue.batch(scratch, datetime.now(UTC)))
    assert handled == [2, 2, 1, 0]
    # Done: later batches of this process send no statement at all.
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(scratch.engine.sync_engine, "before_cursor_execute", count)
    try:
        assert await queue.batch(scratch, datetime.now(UTC)) == 0
    finally:
        event.remove(scratch.engine.sync_engine, "before_cursor_execute", count)
    assert statements == []


async def test_two_runners_draining_at_once_do_the_work_once(scratch: Database, settings: Settings) -> None:
    await seed(scratch, courses=3, items=4)
    other = Database.from_url(scratch.engine.url.render_as_string(hide_password=False), settings)
    try:
        first, second = JobRunner([backfill_queue()]), JobRunner([backfill_queue()])
        handled = await asyncio.gather(first.drain(scratch, QUEUE_NAME), second.drain(other, QUEUE_NAME))
    finally:
        await other.dispose()
    # Each item indexed by exactly one of them (a second indexing would count twice, or fail on the unique key).
    assert sum(handled) == 12
    counts = await chunk_counts(scratch)
    assert set(counts) == await published_items(scratch)
    assert all(n == 1 for n in counts.values())
    async with scratch.engine.connect() as conn:
        jobs = await conn.scalar(text("SELECT count(*) FROM retrieval_embedding_jobs"))
    assert jobs == 12
