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
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from twosigma.config import Settings
from twosigma.db.driver import driver_fetch, pooled_fetch
from twosigma.db.engine import PARKED_CONNECTIONS, Database, ParkedConnections, make_engine, make_sessionmaker
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
        assert first[0] == second[0]  # the parked connection was used again
        assert first[1] == "set"
        assert second[1] in ("", None)
        assert len(db.parked) == 1
        assert db.engine.pool.checkedout() == 1  # parked: still checked out of the engine's pool
        await db.parked.close()
        assert db.engine.pool.checkedout() == 0
    finally:
        await db.dispose()


async def test_a_connection_parked_too_long_goes_back_to_the_pool(database_url: str, settings: Settings) -> None:
    db = pooled_database(database_url, settings)
    db.parked.idle_seconds = 0.05
    try:
        await pooled_fetch(db, "SELECT 1")
        assert db.engine.pool.checkedout() == 1
        await asyncio.sleep(0.1)
        assert await db.parked.take() is None  # too old to hand out: given back instead
        assert db.engine.pool.checkedout() == 0
        assert len(db.parked) == 0
    finally:
        await db.dispose()


async def test_at_most_keep_connections_are_parked(database_url: str, settings: Settings) -> None:
    db = pooled_database(database_url, settings)
    try:
        pids = await asyncio.gather(*(pooled_fetch(db, "SELECT pg_backend_pid(), pg_sleep(0.2)") for _ in range(7)))
        assert len({rows[0][0] for rows in pids}) == 7  # seven at once: seven connections
        assert len(db.parked) == db.parked.keep < 7
        assert db.engine.pool.checkedout() == db.parked.keep  # the rest went back to the pool
    finally:
        await db.dispose()
    assert db.engine.pool.checkedout() == 0  # dispose gave the parked ones back first


async def test_a_parked_connection_found_dead_is_replaced_and_the_read_still_answers(
    database_url: str, settings: Settings
) -> None:
    db = pooled_database(database_url, settings)
    try:
        ((pid,),) = await pooled_fetch(db, "SELECT pg_backend_pid()")
        # The server drops the parked connection (a restart, an administrator) while it waits for the next read.
        await pooled_fetch(db, "SELECT 1")  # (warm: parks again)
        other = Database.from_url(database_url, settings)
        try:
            async with other.engine.connect() as conn:
                await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        finally:
            await other.dispose()
        await asyncio.sleep(0.1)
        ((again, answer),) = await pooled_fetch(db, "SELECT pg_backend_pid(), 41 + 1")
        assert answer == 42
        assert again != pid
        assert len(db.parked) == 1
        assert db.engine.pool.checkedout() == 1
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
        assert db.engine.pool.checkedout() == 0  # neither parked nor leaked
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
        # The cancelled read had taken the first read's parked connection: it is neither parked nor back in the pool.
        assert len(db.parked) == 0
        assert db.engine.pool.checkedout() == 0
        # A connection cancelled mid-statement is discarded: the next read runs on a new one, and works.
        (second,) = await pooled_fetch(db, "SELECT pg_backend_pid()")
        assert second[0] != first[0]
    finally:
        await db.dispose()


async def test_a_small_pool_parks_at_most_half_its_connections_and_a_tiny_one_none(
    database_url: str, settings: Settings
) -> None:
    assert Database.from_url(database_url, settings).parked.keep == PARKED_CONNECTIONS  # the default pool: 10
    assert Database.from_url(database_url, settings.model_copy(update={"db_pool_size": 4})).parked.keep == 2
    tiny = Database.from_url(database_url, settings.model_copy(update={"db_pool_size": 1, "db_max_overflow": 0}))
    try:
        assert tiny.parked.keep == 0
        await pooled_fetch(tiny, "SELECT 1")
        assert tiny.engine.pool.checkedout() == 0  # nothing parked: the one connection is free for a session
        async with tiny.sessionmaker() as session:
            assert (await session.execute(text("SELECT 2"))).scalar_one() == 2
    finally:
        await tiny.dispose()
    unpooled = create_async_engine(database_url, poolclass=NullPool)
    assert ParkedConnections(unpooled).keep == 0
    await unpooled.dispose()


async def test_a_database_around_an_engine_its_caller_disposes_parks_nothing(
    database_url: str, settings: Settings
) -> None:
    engine = make_engine(database_url, settings)
    db = Database(engine=engine, sessionmaker=make_sessionmaker(engine))
    try:
        assert db.parked.keep == 0
        assert [r[0] for r in await pooled_fetch(db, "SELECT 1")] == [1]
        assert engine.pool.checkedout() == 0  # back in the pool: engine.dispose() alone closes it
    finally:
        await engine.dispose()


async def test_a_connection_beyond_the_pools_size_is_really_closed_when_given_back(
    database_url: str, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    # Checked in outside a greenlet, SQLAlchemy could not close an overflow connection: it logged the failure and
    # left the connection open (a ResourceWarning when collected, a server backend until then).
    small = settings.model_copy(update={"db_pool_size": 1, "db_max_overflow": 5})
    for db in (Database.from_url(database_url, small), Database(**_unowned(database_url, small))):
        try:
            rows = await asyncio.gather(*(pooled_fetch(db, "SELECT pg_backend_pid(), pg_sleep(0.1)") for _ in range(4)))
            pids = [r[0][0] for r in rows]
            assert len(set(pids)) == 4
            assert db.engine.pool.checkedout() == len(db.parked) <= 1
            await db.parked.close()
            (alive,) = await pooled_fetch(db, "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1::int[])", pids)
            assert alive[0] == 1  # the pool's one connection (running this); the overflow ones are gone
        finally:
            await db.dispose()
    assert not [r for r in caplog.records if "Exception closing connection" in r.getMessage()]


def _unowned(url: str, settings: Settings) -> dict[str, Any]:
    engine = make_engine(url, settings)
    return {"engine": engine, "sessionmaker": make_sessionmaker(engine)}
