"""Where the database comes from, and the one way a command line reaches it.

`resolve_database` gives the configured URL, or starts the embedded server. `database_engine` and `cli_session`
wrap everything a command needs around that: an engine (disposed on exit), the schema migrated to head when asked,
a session committed when the work succeeds and rolled back when it raises, and the embedded server released last.
`run_with_database` and `run_in_session` run one piece of async work that way from synchronous (Typer) code.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TypeVar

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from twosigma.config import Settings
from twosigma.db import migrate
from twosigma.db.embedded import EmbeddedPostgres, server_status
from twosigma.db.engine import make_engine, make_sessionmaker

logger = logging.getLogger(__name__)

EMBEDDED_DATABASE = "twosigma"

T = TypeVar("T")


@dataclass
class DatabaseTarget:
    url: str
    embedded: EmbeddedPostgres | None = None

    def release(self) -> None:
        if self.embedded is not None:
            self.embedded.stop()
            self.embedded = None


async def ensure_database(embedded: EmbeddedPostgres, name: str) -> None:
    admin_url = embedded.url("postgres").replace("postgresql+asyncpg", "postgresql")
    conn = await asyncpg.connect(admin_url)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def resolve_database(settings: Settings) -> DatabaseTarget:
    """The configured URL, or a started embedded server (which the caller must `release()`)."""
    if settings.database_url:
        return DatabaseTarget(url=settings.database_url)
    embedded = EmbeddedPostgres(settings.data_dir)
    embedded.start()
    await ensure_database(embedded, EMBEDDED_DATABASE)
    return DatabaseTarget(url=embedded.url(EMBEDDED_DATABASE), embedded=embedded)


def running_embedded_url(settings: Settings) -> str | None:
    """The URL of the embedded server already running on `settings.data_dir`, reached without taking a handle on it
    (so reading it never stops a server someone else left running), or None when none runs."""
    status = server_status(settings.data_dir)
    if not status.running or status.socket_dir is None:
        return None
    return f"postgresql+asyncpg://postgres@/{EMBEDDED_DATABASE}?host={status.socket_dir}"


@asynccontextmanager
async def engine_on(settings: Settings, url: str, *, upgrade: bool = False) -> AsyncIterator[AsyncEngine]:
    """An engine on `url`, the schema first migrated to head when `upgrade`; disposed on exit."""
    engine = make_engine(url, settings)
    try:
        if upgrade:
            await migrate.upgrade(engine)
        yield engine
    finally:
        await engine.dispose()


@asynccontextmanager
async def database_engine(settings: Settings, *, upgrade: bool = False) -> AsyncIterator[AsyncEngine]:
    """`engine_on` the resolved database; an embedded server started for it is released after the engine."""
    target = await resolve_database(settings)
    try:
        async with engine_on(settings, target.url, upgrade=upgrade) as engine:
            yield engine
    finally:
        target.release()


@asynccontextmanager
async def committed_session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """One unit of work: committed when the block ends normally, rolled back when it raises."""
    async with make_sessionmaker(engine)() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        await session.commit()


@asynccontextmanager
async def cli_session(settings: Settings, *, upgrade: bool = False) -> AsyncIterator[AsyncSession]:
    """A `committed_session` on the resolved database (`database_engine`)."""
    async with database_engine(settings, upgrade=upgrade) as engine, committed_session(engine) as session:
        yield session


def run_with_database(settings: Settings, work: Callable[[AsyncEngine], Awaitable[T]], *, upgrade: bool = False) -> T:
    """Run `work(engine)` on the resolved database (`database_engine`) in a fresh event loop."""

    async def main() -> T:
        async with database_engine(settings, upgrade=upgrade) as engine:
            return await work(engine)

    return asyncio.run(main())


def run_in_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]], *, upgrade: bool = False) -> T:
    """Run `work(session)` in one `cli_session` in a fresh event loop; its result once committed."""

    async def main() -> T:
        async with cli_session(settings, upgrade=upgrade) as session:
            return await work(session)

    return asyncio.run(main())
