"""db/driver.py: driver_fetch, a read on the session's own asyncpg connection inside its transaction, and
pooled_fetch, a read on a pooled connection outside any transaction; the engine's statement listeners see both, and
a lost connection is reported as the error handlers expect (503)."""

from __future__ import annotations

import asyncio
import tempfile
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from twosigma.config import Settings
from twosigma.db.driver import driver_fetch, pooled_fetch
from twosigma.db.engine import Database
from twosigma.kit.handlers import is_database_unavailable


async def test_it_reads_inside_the_sessions_transaction(db: AsyncSession) -> None:
    await db.execute(text("CREATE TEMP TABLE driver_probe (n int) ON COMMIT DROP"))
    await db.execute(text("INSERT INTO driver_probe VALUES (1), (2), (3)"))  # not committed
    rows = await driver_fetch(db, "SELECT n FROM driver_probe WHERE n >= $1 ORDER BY n", 2)
    assert [r[0] for r in rows] == [2, 3]
    assert [r["n"] for r in rows] == [2, 3]


async def test_the_engines_statement_listeners_see_it(db: AsyncSession, db_engine: AsyncEngine) -> None:
    seen: list[tuple[str, Any]] = []
    after: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        seen.append((statement, parameters))

    def done(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        after.append(statement)

    event.listen(db_engine.sync_engine, "before_cursor_execute", before)
    event.listen(db_engine.sync_engine, "after_cursor_execute", done)
    try:
        await driver_fetch(db, "SELECT $1::int + 1", 41)
    finally:
        event.remove(db_engine.sync_engine, "before_cursor_execute", before)
        event.remove(db_engine.sync_engine, "after_cursor_execute", done)
    # (The test harness's own SAVEPOINT may come first: this session runs in the test's transaction.)
    assert [s for s in seen if "SAVEPOINT" not in s[0]] == [("SELECT $1::int + 1", (41,))]
    assert [s for s in after if "SAVEPOINT" not in s] == ["SELECT $1::int + 1"]


# --- pooled_fetch: one read on a pooled connection, outside any transaction -------------------------------------


def pooled_database(url: str, settings: Settings) -> Database:
    return Database.from_url(url, settings)


async def test_pooled_fetch_runs_outside_any_transaction(database_url: str, settings: Settings) -> None:
    db = pooled_database(database_url, settings)
    try:
        # A setting made for the rest of the transaction (set_config(..., true)) is gone by the next read on the same
        # connection: no transaction was left open on it.
        (first,) = await pooled_fetch(db, "SELECT pg_backend_pid(), set_config('twosigma.probe', 'set', true)")
        (second,) = await pooled_fetch(db, "SELECT pg_backend_pid(), current_setting('twosigma.probe', true)")
        assert first[0] == second[0]  # the pool handed the same connection back
        assert first[1] == "set"
        assert second[1] in ("", None)
        assert db.engine.pool.checkedout() == 0  # the connection went back at once
    finally:
        await db.dispose()


async def test_pooled_fetch_on_a_bound_database_stays_in_its_transaction(
    db: AsyncSession, test_sessionmaker: async_sessionmaker[AsyncSession], db_engine: AsyncEngine
) -> None:
    await db.execute(text("CREATE TEMP TABLE pooled_probe (n int) ON COMMIT DROP"))
    await db.execute(text("INSERT INTO pooled_probe VALUES (7)"))  # not committed: only the test's connection sees it
    bound = Database(engine=db_engine, sessionmaker=test_sessionmaker)
    assert bound.bound is not None
    assert [r[0] for r in await pooled_fetch(bound, "SELECT n FROM pooled_probe")] == [7]


async def test_pooled_fetch_is_seen_by_statement_listeners(database_url: str, settings: Settings) -> None:
    db = pooled_database(database_url, settings)
    seen: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", before)
    try:
        await pooled_fetch(db, "SELECT 1")
    finally:
        await db.dispose()
    assert seen == ["SELECT 1"]


async def test_a_server_that_is_down_is_an_error_the_handlers_answer_503(settings: Settings) -> None:
    with tempfile.TemporaryDirectory(dir="/tmp") as nowhere:
        db = pooled_database(f"postgresql+asyncpg://postgres@/postgres?host={nowhere}", settings)
        try:
            with pytest.raises((DBAPIError, OSError)) as caught:
                await pooled_fetch(db, "SELECT 1")
        finally:
            await db.dispose()
    # OSError has its own 503 handler (kit/handlers.py), as for a session's checkout.
    assert isinstance(caught.value, OSError) or is_database_unavailable(caught.value)


async def test_a_connection_lost_mid_read_is_discarded_and_answers_503(database_url: str, settings: Settings) -> None:
    db = pooled_database(database_url, settings)
    try:
        with pytest.raises(DBAPIError) as caught:
            await pooled_fetch(db, "SELECT pg_terminate_backend(pg_backend_pid())")
        assert is_database_unavailable(caught.value)
        assert db.engine.pool.checkedout() == 0
        # The pool handed the dead connection back as invalid: the next read gets a working one.
        assert [r[0] for r in await pooled_fetch(db, "SELECT 41 + 1")] == [42]
    finally:
        await db.dispose()


async def test_a_bad_statement_is_a_plain_database_error(database_url: str, settings: Settings) -> None:
    db = pooled_database(database_url, settings)
    try:
        with pytest.raises(DBAPIError) as caught:
            await pooled_fetch(db, "SELECT * FROM no_such_table")
        assert not is_database_unavailable(caught.value)
        assert [r[0] for r in await pooled_fetch(db, "SELECT 1")] == [1]
    finally:
        await db.dispose()


async def test_a_cancelled_read_does_not_put_its_busy_connection_back(database_url: str, settings: Settings) -> None:
    db = pooled_database(database_url, settings)
    try:
        (first,) = await pooled_fetch(db, "SELECT pg_backend_pid()")
        task = asyncio.create_task(pooled_fetch(db, "SELECT pg_sleep(5)"))
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert db.engine.pool.checkedout() == 0
        # A connection cancelled mid-statement is discarded: the next read runs on a new one, and works.
        (second,) = await pooled_fetch(db, "SELECT pg_backend_pid()")
        assert second[0] != first[0]
    finally:
        await db.dispose()
