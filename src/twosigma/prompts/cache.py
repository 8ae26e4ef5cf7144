"""The per-process cache of resolved prompts, and the LISTEN loop that empties it (and the API key cache) when
any process writes.

Every prompt write runs `pg_notify('twosigma_prompts', name)` inside its transaction, so PostgreSQL delivers the
notification at commit (and never for a rollback). Each server process listens on its own asyncpg connection and
clears its whole cache on any notification: a resolved prompt embeds other prompts, so one name's write can change
many entries. If the connection drops, the cache is cleared (notifications may have been missed) and the listener
reconnects with exponential backoff.

API key revocations notify on the same channel, so one listening connection per process keeps both caches true.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from twosigma.kit.cache import Clearable, InvalidatedCache
from twosigma.prompts.composition import ResolvedPrompt
from twosigma.prompts.repository import CHANNEL

logger = logging.getLogger(__name__)

CacheKey = tuple[str, str]


def key_for(name: str, version: int | None, label: str | None) -> CacheKey:
    return (name, f"version:{version}" if version is not None else f"label:{label}")


class PromptCache(InvalidatedCache[CacheKey, ResolvedPrompt]):
    """Resolved prompts by (name, version or label), and each one's serialized Langfuse JSON."""

    def __init__(self) -> None:
        super().__init__()
        self._bodies: dict[CacheKey, bytes] = {}

    def body(self, key: CacheKey) -> bytes | None:
        return self._bodies.get(key)

    def put_body(self, key: CacheKey, body: bytes, generation: int) -> None:
        if generation == self.generation:
            self._bodies[key] = body

    def clear(self) -> None:
        self._bodies.clear()
        super().clear()


# The process's cache: used by servers (the app's lifespan listens for it) and by callers without an app.
default_cache = PromptCache()


def prompt_cache_of(state: Any) -> PromptCache:
    """The app's prompt cache (`app.state.prompt_cache`), or the process's."""
    cache = getattr(state, "prompt_cache", None)
    return cache if isinstance(cache, PromptCache) else default_cache


def asyncpg_dsn(engine: AsyncEngine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


class PromptCacheListener:
    """LISTEN on `twosigma_prompts`; clear `cache` (and `others`) on every notification; reconnect with backoff."""

    def __init__(
        self,
        dsn: str,
        cache: PromptCache,
        *,
        others: Sequence[Clearable] = (),
        channel: str = CHANNEL,
        min_backoff: float = 0.2,
        max_backoff: float = 30.0,
        probe_interval: float = 5.0,
    ) -> None:
        self.dsn = dsn
        self.cache = cache
        self.others = tuple(others)
        self.channel = channel
        self.min_backoff = min_backoff
        self.max_backoff = max_backoff
        self.probe_interval = probe_interval
        self.connections = 0  # successful (re)connections, for observability and tests
        self.listening = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._conn: asyncpg.Connection | None = None

    @classmethod
    def for_engine(cls, engine: AsyncEngine, cache: PromptCache, **kwargs: Any) -> PromptCacheListener:
        return cls(asyncpg_dsn(engine), cache, **kwargs)

    async def start(self, wait: float = 10.0) -> None:
        """Start listening; wait (bounded) until the first LISTEN is in place so no write is missed."""
        self._task = asyncio.create_task(self._run(), name="prompt-cache-listener")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.listening.wait(), timeout=wait)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    @property
    def backend_pid(self) -> int | None:
        return self._conn.get_server_pid() if self._conn is not None and not self._conn.is_closed() else None

    def clear(self) -> None:
        self.cache.clear()
        for other in self.others:
            other.clear()

    def _on_notify(self, connection: Any, pid: int, channel: str, payload: str) -> None:
        self.clear()

    async def _run(self) -> None:
        backoff = self.min_backoff
        while True:
            try:
                conn = await asyncpg.connect(self.dsn, timeout=10)
            except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
                logger.warning(
                    "prompt cache listener cannot connect (%s); retrying in %.1fs", type(exc).__name__, backoff
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff)
                continue
            backoff = self.min_backoff
            try:
                await self._listen(conn)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
                logger.warning("prompt cache listener lost its connection (%s); reconnecting", type(exc).__name__)
            finally:
                self.listening.clear()
                self._conn = None
                # Notifications may have been missed while we were not listening.
                self.clear()
                if not conn.is_closed():
                    conn.terminate()

    async def _listen(self, conn: asyncpg.Connection) -> None:
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _conn: lost.set())
        await conn.add_listener(self.channel, self._on_notify)
        self._conn = conn
        self.connections += 1
        self.clear()
        self.listening.set()
        while not lost.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lost.wait(), timeout=self.probe_interval)
                continue
            # A silently dead connection raises here.
            await conn.fetchval("SELECT 1", timeout=self.probe_interval)
