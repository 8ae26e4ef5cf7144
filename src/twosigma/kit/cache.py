"""A per-process cache that any process's write empties (through LISTEN/NOTIFY, see prompts/cache.py).

A reader records `generation` before it reads the database and stores what it read only if no `clear()` happened
meanwhile, so a read that raced a write cannot put the old value back after the invalidation.
"""

from __future__ import annotations

from typing import Generic, Protocol, TypeVar

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncSession

K = TypeVar("K")
V = TypeVar("V")


class Clearable(Protocol):
    def clear(self) -> None: ...


class InvalidatedCache(Generic[K, V]):
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


# Every process LISTENs here (prompts/cache.py) and empties its caches on any notification.
CHANNEL = "twosigma_prompts"


async def notify_invalidation(session: AsyncSession, payload: str) -> None:
    """Queued inside the transaction: PostgreSQL delivers it at commit, and never if it rolls back."""
    await session.execute(text("SELECT pg_notify(:channel, :payload)"), {"channel": CHANNEL, "payload": payload})


def clear_now_and_after_commit(session: AsyncSession, *caches: Clearable) -> None:
    """Empty this process's `caches` now and again once `session` commits.

    The first clear makes this request's own later reads miss; the second drops anything a concurrent reader
    cached from the old row between the first clear and the commit (other processes wait for the NOTIFY).
    """

    def clear_all(*_: object) -> None:
        for cache in caches:
            cache.clear()

    clear_all()
    event.listen(session.sync_session, "after_commit", clear_all, once=True)
