"""Async engine and session factory."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.util import greenlet_spawn

from twosigma.config import Settings

# A pooled connection idle for longer than this is pinged before use (see `ping_when_idle`).
PING_AFTER_IDLE_SECONDS = 2.0


def ping_when_idle(engine: AsyncEngine, idle_seconds: float = PING_AFTER_IDLE_SECONDS) -> None:
    """Ping a pooled connection before handing it out only if it sat idle for `idle_seconds` or more.

    SQLAlchemy's `pool_pre_ping` pings on every checkout, and with asyncpg a ping is three round trips (BEGIN,
    an empty query, ROLLBACK) — more than a simple request's own SQL. A connection that was in use a moment ago
    is known to be alive, so only idle ones are pinged: after a database restart the first checkout of each old
    connection still finds it dead and the pool hands out a fresh one (DisconnectionError makes the pool retry).
    A connection that dies while busy is found by the query itself, which SQLAlchemy reports as a disconnect
    (the request answers 503) and the pool then discards every connection older than the failure.
    """
    sync = engine.sync_engine

    @event.listens_for(sync, "checkin")
    def _idle_from(dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(sync, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since = record.info.pop("idle_since", None)
        if since is None or time.monotonic() - since < idle_seconds:
            return  # new, or in use moments ago
        try:
            sync.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError("pooled connection failed its ping") from exc


def make_engine(url: str, settings: Settings) -> AsyncEngine:
    engine = create_async_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
        connect_args={
            "timeout": 10,
            "server_settings": {
                "application_name": "twosigma",
                "statement_timeout": str(settings.db_statement_timeout_ms),
            },
        },
    )
    ping_when_idle(engine)
    return engine


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


# Connections kept between reads outside a unit of work (`ParkedConnections`): enough for the reads in flight at
# once under load (a read takes a fraction of its request), few enough to leave the pool to the sessions (never
# more than half the pool's permanent connections).
PARKED_CONNECTIONS = 4


def parked_for(engine: AsyncEngine) -> int:
    size = getattr(engine.pool, "size", None)
    permanent = size() if callable(size) else 0  # a pool without a size (NullPool) keeps nothing: park nothing
    return max(0, min(PARKED_CONNECTIONS, permanent // 2))


class ParkedConnections:
    """A few of the engine pool's connections kept checked out between the short reads that run outside any unit of
    work (`db.driver.pooled_fetch`: the principal behind every authenticated request).

    Taking a connection from here is a list pop; a checkout from SQLAlchemy's pool and the check-in after it (reset
    included) cost that read three times the statement itself. Only a connection used moments ago is handed out
    again: one parked for `idle_seconds` or more goes back to the engine's pool, whose next checkout pings it
    (`ping_when_idle`), exactly as if it had never been parked. At most `keep` are parked; more reads at once check
    out from the pool as before (`keep` is at most half the pool's size, so the sessions always have the larger
    part). `close()` gives them all back (before the engine is disposed).
    """

    def __init__(
        self, engine: AsyncEngine, keep: int | None = None, idle_seconds: float = PING_AFTER_IDLE_SECONDS
    ) -> None:
        self.keep = parked_for(engine) if keep is None else keep
        self.idle_seconds = idle_seconds
        self._idle: list[tuple[PoolProxiedConnection, float]] = []  # the most recently used last

    def __len__(self) -> int:
        return len(self._idle)

    async def take(self) -> PoolProxiedConnection | None:
        """The most recently parked connection, or None (then check one out of the engine's pool)."""
        if not self._idle:
            return None
        connection, since = self._idle.pop()
        if time.monotonic() - since < self.idle_seconds and connection.is_valid:
            return connection
        # This one sat too long, and every other one has sat longer: all of them go back to the pool.
        await check_in(connection)
        await self.close()
        return None

    async def park(self, connection: PoolProxiedConnection) -> None:
        if len(self._idle) < self.keep and connection.is_valid:
            self._idle.append((connection, time.monotonic()))
        else:
            await check_in(connection)

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for connection, _ in idle:
            await check_in(connection)


async def check_in(connection: PoolProxiedConnection) -> None:
    """Give a raw connection back to its pool. In a greenlet, as SQLAlchemy's own async code does: a check-in may
    close the connection (one beyond the pool's size, or one the pool was disposed under), and closing an asyncpg
    connection is I/O that SQLAlchemy can only await from a greenlet — called plainly, it logs the failure and
    leaves the connection open until the garbage collector finds it."""
    await greenlet_spawn(connection.close)


@dataclass
class Database:
    """What a running app knows about its database: the engine and how to open sessions.

    `bound`: a database bound to one connection (the tests' transaction: a sessionmaker bound to a connection is
    recognised on its own) runs the reads that need no session (`db.driver.pooled_fetch`) on that connection too.
    `parked`: the connections those reads keep between them otherwise — only when `owns_engine` (`from_url`, whose
    `dispose()` gives them back and disposes the engine): a database built around an engine that its caller disposes
    parks nothing, since `engine.dispose()` alone would leave parked connections open.
    """

    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    bound: AsyncConnection | None = None
    owns_engine: bool = False
    parked: ParkedConnections = field(init=False)

    def __post_init__(self) -> None:
        self.parked = ParkedConnections(self.engine, keep=None if self.owns_engine else 0)
        if self.bound is None and isinstance(self.sessionmaker, async_sessionmaker):
            bind = self.sessionmaker.kw.get("bind")
            if isinstance(bind, AsyncConnection):
                self.bound = bind

    @classmethod
    def from_url(cls, url: str, settings: Settings) -> Database:
        engine = make_engine(url, settings)
        return cls(engine=engine, sessionmaker=make_sessionmaker(engine), owns_engine=True)

    async def dispose(self) -> None:
        await self.parked.close()
        await self.engine.dispose()
