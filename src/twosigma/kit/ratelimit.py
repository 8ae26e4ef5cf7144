"""Rate limits with the `limits` library: in memory by default, Redis when TWOSIGMA_REDIS_URL is set."""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from twosigma.kit.errors import RateLimited


def storage_uri(redis_url: str | None) -> str:
    if redis_url:
        return "async+" + redis_url if not redis_url.startswith("async+") else redis_url
    return "async+memory://"


class RateLimiter:
    """One limiter per app; shared across processes only through Redis."""

    def __init__(self, redis_url: str | None = None, *, key_prefix: str = "LIMITS") -> None:
        # The async Redis storage defaults to the `coredis` client, which is not installed: use redis-py's asyncio
        # client (the `redis` dependency). `key_prefix` starts every key this limiter writes to Redis.
        options: dict[str, str] = {"implementation": "redispy", "key_prefix": key_prefix} if redis_url else {}
        storage = storage_from_string(storage_uri(redis_url), **options)
        assert isinstance(storage, Storage)
        self.storage: Storage = storage
        self.strategy = MovingWindowRateLimiter(self.storage)

    async def hit(self, limit: str | RateLimitItem, *keys: str, cost: int = 1, message: str | None = None) -> None:
        """Count one hit against `limit` for `keys`; raise RateLimited (429, Retry-After) when over."""
        item = parse(limit) if isinstance(limit, str) else limit
        if await self.strategy.hit(item, *keys, cost=cost):
            return
        stats = await self.strategy.get_window_stats(item, *keys)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise RateLimited(message or "Too many requests; try again later.", retry_after=retry_after)

    async def clear(self, limit: str | RateLimitItem, *keys: str) -> None:
        item = parse(limit) if isinstance(limit, str) else limit
        await self.strategy.clear(item, *keys)

    async def reset(self) -> None:
        await self.storage.reset()

    async def aclose(self) -> None:
        """Close the Redis client's connections (memory storage holds none)."""
        bridge = getattr(self.storage, "bridge", None)
        if bridge is not None:
            await bridge.get_connection().aclose()
