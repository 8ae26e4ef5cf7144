"""Regression (found by the many-processes suite): with TWOSIGMA_REDIS_URL set the app could not start, because
the async Redis storage of `limits` asked for the `coredis` client, which is not a dependency."""

from __future__ import annotations

import uuid

import pytest
import redis

from tests.reliability.test_many_processes import REDIS, REDIS_URL
from twosigma.kit.errors import RateLimited
from twosigma.kit.ratelimit import RateLimiter


@pytest.mark.skipif(not REDIS, reason="Redis is not reachable on 127.0.0.1:6379 (the SPEC's CI machine runs it)")
class TestRedisRateLimiter:
    async def test_two_limiters_on_one_redis_share_one_budget(self) -> None:
        prefix = f"twosigma-test-{uuid.uuid4().hex[:10]}"
        first, second = RateLimiter(REDIS_URL, key_prefix=prefix), RateLimiter(REDIS_URL, key_prefix=prefix)
        try:
            await first.hit("2/minute", "probe", "someone")
            await second.hit("2/minute", "probe", "someone")
            with pytest.raises(RateLimited):
                await first.hit("2/minute", "probe", "someone")
        finally:
            await first.aclose()
            await second.aclose()
            client = redis.Redis.from_url(REDIS_URL)
            keys = list(client.scan_iter(match=f"{prefix}*"))
            assert keys, "the limiter wrote under its own prefix"
            client.delete(*keys)
            client.close()
