"""Per-process caches that any process's write empties: one invalidation service, one LISTEN connection.

Each cache is an `InvalidatedCache` naming what it holds in `payload` ("prompts", "api_keys", "settings"). A writer
calls `invalidate(session, payload, cache)` inside its transaction: `pg_notify(CHANNEL, payload)` is queued (and
delivered by PostgreSQL at commit, never for a rollback), and this process's `cache` is emptied at once and again
after the commit. Every server process keeps one `CacheInvalidation`: the caches of its app register with it, and
its one LISTEN connection on `CHANNEL` empties the caches registered for each payload it hears. A payload no cache
registered for empties them all (a writer this process does not know), and so does a lost connection (a
notification may have been missed): after either, the next reads go to the database.

A reader records `generation` before it reads the database and stores what it read only if no `clear()` happened
meanwhile, so a read that raced a write cannot put the old value back after the invalidation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, ClassVar, Generic, Protocol, TypeVar

import asyncpg
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

logger = logging.getLogger(__name__)

K = TypeVar("K")
V = TypeVar("V")

# One channel for every cache; the payload says which caches a notification empties.
CHANNEL = "twosigma_cache"


class Clearable(Protocol):
    payload: ClassVar[str]

    def clear(self) -> None: ...


C = TypeVar("C", bound=Clearable)


class InvalidatedCache(Generic[K, V]):
    """A dictionary emptied by `clear()`; subclasses set `payload`, the NOTIFY payload that empties them."""

    payload: ClassVar[str]

    def __init__(self) -> None:
        self._entries: dict[K, V] = {}
        self.generation = 0

    def get(self, key: K) -> V | None:
        return self._entries.get(key)

    def put(self, key: K, value: V, generation: int) -> None:
        if generation == self.generation:
            self._entries[key] = value

    def clear(self) -> None:
        self._entries.clear()
        self.generation += 1

    def __len__(self) -> int:
        return len(self._entries)


async def invalidate(session: AsyncSession, payload: str, *local: Clearable | None) -> None:
    """Empty every process's caches registered for `payload` once `session` commits (the NOTIFY), and this
    process's `local` caches now and again after the commit.

    The first local clear makes this request's own later reads miss; the second drops anything a concurrent reader
    cached from the old row between the first clear and the commit (other processes wait for the NOTIFY).
    """
    await session.execute(text("SELECT pg_notify(:channel, :payload)"), {"channel": CHANNEL, "payload": payload})
    caches = [cache for cache in local if cache is not None]

    def clear_all(*_: object) -> None:
        for cache in caches:
            cache.clear()

    clear_all()
    if caches:
        event.listen(session.sync_session, "after_commit", clear_all, once=True)


def asyncpg_dsn(engine: AsyncEngine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


class CacheInvalidation:
    """The process's caches by payload, and the LISTEN loop on `CHANNEL` that empties them (reconnecting with
    exponential backoff, probing an idle connection every `probe_interval` seconds)."""

    def __init__(self, *, min_backoff: float = 0.2, max_backoff: float = 30.0, probe_interval: float = 5.0) -> None:
        self.min_backoff = min_backoff
        self.max_backoff = max_backoff
        self.probe_interval = probe_interval
        self.connections = 0  # successful (re)connections, for observability and tests
        self.listening = asyncio.Event()
        self._caches: dict[str, list[Clearable]] = {}
        self._task: asyncio.Task[None] | None = None
        self._conn: asyncpg.Connection | None = None

    def register(self, cache: C) -> C:
        """Empty `cache` on every notification of its `payload` (and on unknown ones, and on a reconnect)."""
        self._caches.setdefault(cache.payload, []).append(cache)
        return cache

    def dispatch(self, payload: str) -> None:
        caches = self._caches.get(payload)
        if caches is None:
            self.clear_all()
            return
        for cache in caches:
            cache.clear()

    def clear_all(self) -> None:
        for caches in self._caches.values():
            for cache in caches:
                cache.clear()

    async def start(self, dsn: str, wait: float = 10.0) -> None:
        """Start listening; wait (bounded) until the first LISTEN is in place so no write is missed."""
        self._task = asyncio.create_task(self._run(dsn), name="cache-invalidation-listener")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.listening.wait(), timeout=wait)

    async def start_for(self, engine: AsyncEngine, wait: float = 10.0) -> None:
        await self.start(asyncpg_dsn(engine), wait)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    @property
    def backend_pid(self) -> int | None:
        return self._conn.get_server_pid() if self._conn is not None and not self._conn.is_closed() else None

    def _on_notify(self, connection: Any, pid: int, channel: str, payload: str) -> None:
        self.dispatch(payload)

    async def _run(self, dsn: str) -> None:
        backoff = self.min_backoff
        while True:
            try:
                conn = await asyncpg.connect(dsn, timeout=10)
            except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
                logger.warning(
                    "cache invalidation listener cannot connect (%s); retrying in %.1fs", type(exc).__name__, backoff
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff)
                continue
            backoff = self.min_backoff
            try:
                await self._listen(conn)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
                logger.warning("cache invalidation listener lost its connection (%s); reconnecting", type(exc).__name__)
            finally:
                self.listening.clear()
                self._conn = None
                # Notifications may have been missed while we were not listening.
                self.clear_all()
                if not conn.is_closed():
                    conn.terminate()

    async def _listen(self, conn: asyncpg.Connection) -> None:
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _conn: lost.set())
        await conn.add_listener(CHANNEL, self._on_notify)
        self._conn = conn
        self.connections += 1
        self.clear_all()
        self.listening.set()
        while not lost.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lost.wait(), timeout=self.probe_interval)
                continue
            # A silently dead connection raises here.
            await conn.fetchval("SELECT 1", timeout=self.probe_interval)
