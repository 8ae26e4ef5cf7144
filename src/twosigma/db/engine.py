"""Async engine and session factory."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

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


@dataclass
class Database:
    """What a running app knows about its database: the engine and how to open sessions.

    Every statement runs in a session of `sessionmaker`: the request's unit of work (`db.session.unit_of_work`) or a
    read outside it (`db.session.read_session`). The tests bind `sessionmaker` to their rolled-back transaction, so
    both take the same path there as in production.
    """

    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]

    @classmethod
    def from_url(cls, url: str, settings: Settings) -> Database:
        engine = make_engine(url, settings)
        return cls(engine=engine, sessionmaker=make_sessionmaker(engine))

    async def dispose(self) -> None:
        await self.engine.dispose()
