"""ping_when_idle (db/engine.py): a pooled connection is pinged before use only after sitting idle, and a dead one
found by the ping is replaced without the caller noticing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import QueuePool

from twosigma.config import Settings
from twosigma.db.engine import PING_AFTER_IDLE_SECONDS, make_engine, ping_when_idle

EngineFactory = Callable[[float], Awaitable[AsyncEngine]]


@pytest.fixture
async def pinging_engine(db_engine: AsyncEngine) -> AsyncIterator[EngineFactory]:
    """Engines of one pooled connection on the test database, pinged after `idle_seconds` (and nothing else)."""
    engines: list[AsyncEngine] = []

    async def build(idle_seconds: float) -> AsyncEngine:
        engine = create_async_engine(db_engine.url, pool_size=1, max_overflow=0)
        ping_when_idle(engine, idle_seconds)
        engines.append(engine)
        return engine

    yield build
    for engine in engines:
        await engine.dispose()


async def _backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        pid = await conn.scalar(text("SELECT pg_backend_pid()"))
    assert isinstance(pid, int)
    return pid


async def _kill(db_engine: AsyncEngine, pid: int) -> None:
    """Terminate backend `pid` from another connection and wait until it is gone."""
    async with db_engine.connect() as conn:
        # With a timeout (PostgreSQL 14+) the call waits until the backend has exited.
        assert await conn.scalar(text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": pid})
        deadline = time.monotonic() + 10
        while True:
            # pg_stat_activity is a snapshot taken once per transaction (PostgreSQL 15 and older cache it), so the
            # poll drops it each time; otherwise a backend seen alive once stays alive to this transaction.
            await conn.execute(text("SELECT pg_stat_clear_snapshot()"))
            query = text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid")
            if not await conn.scalar(query, {"pid": pid}):
                break
            assert time.monotonic() < deadline, f"backend {pid} still alive"
            await asyncio.sleep(0.02)


class TestPingWhenIdle:
    async def test_a_dead_idle_connection_is_replaced_at_the_next_checkout(
        self, pinging_engine: EngineFactory, db_engine: AsyncEngine
    ) -> None:
        engine = await pinging_engine(0)
        pid = await _backend_pid(engine)
        assert isinstance(engine.pool, QueuePool)
        assert engine.pool.checkedin() == 1  # the connection went back to the pool
        await _kill(db_engine, pid)

        replacement = await _backend_pid(engine)  # no error: the ping found it dead, the pool reconnected
        assert replacement != pid
        assert await _backend_pid(engine) == replacement  # and the new one is pooled as before

    async def test_a_connection_in_use_moments_ago_is_not_pinged_so_its_death_is_the_querys_error(
        self, pinging_engine: EngineFactory, db_engine: AsyncEngine
    ) -> None:
        engine = await pinging_engine(3600)
        pid = await _backend_pid(engine)
        await _kill(db_engine, pid)

        with pytest.raises(DBAPIError) as failure:
            await _backend_pid(engine)
        assert failure.value.connection_invalidated  # reported as a disconnect (503 in the app)
        # The pool discarded the dead connection: the next checkout connects afresh.
        replacement = await _backend_pid(engine)
        assert replacement != pid

    async def test_a_live_idle_connection_is_pinged_and_kept(self, pinging_engine: EngineFactory) -> None:
        engine = await pinging_engine(0)
        pings = 0
        ping = engine.sync_engine.dialect.do_ping

        def counting_ping(dbapi_connection: Any) -> bool:
            nonlocal pings
            pings += 1
            return ping(dbapi_connection)

        engine.sync_engine.dialect.do_ping = counting_ping  # type: ignore[method-assign]
        first = await _backend_pid(engine)
        assert pings == 0  # a new connection is not pinged
        assert await _backend_pid(engine) == first
        assert await _backend_pid(engine) == first
        assert pings == 2  # each reuse after a checkin was

    async def test_make_engine_pings_idle_connections_instead_of_every_checkout(
        self, db_engine: AsyncEngine, settings: Settings
    ) -> None:
        assert PING_AFTER_IDLE_SECONDS > 0
        engine = make_engine(db_engine.url.render_as_string(hide_password=False), settings)
        plain = create_async_engine(db_engine.url)
        try:
            assert not engine.pool._pre_ping  # SQLAlchemy's ping on every checkout is off ...
            assert len(engine.pool.dispatch.checkout) > len(plain.pool.dispatch.checkout)  # ... ours is on
            assert len(engine.pool.dispatch.checkin) > len(plain.pool.dispatch.checkin)
        finally:
            await engine.dispose()
            await plain.dispose()
