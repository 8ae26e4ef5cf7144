"""One cache-and-invalidation service (kit/cache.py): caches register under their NOTIFY payload, one LISTEN
connection empties the caches registered for each payload it hears, an unknown payload or a reconnect empties them
all, and every writer notifies the payload of the cache it makes stale."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from tests.fixtures.prompts import ADMIN, make_api_key
from twosigma.api_keys import service as api_keys_service
from twosigma.api_keys.cache import ApiKeyCache, VerifiedKey
from twosigma.app import build_state
from twosigma.config import Settings
from twosigma.kit.cache import CHANNEL, CacheInvalidation, asyncpg_dsn
from twosigma.prompts.cache import PromptCache, key_for
from twosigma.prompts.schemas import PromptCreate
from twosigma.prompts.services import changes as prompts_service
from twosigma.system_settings import service as settings_service
from twosigma.system_settings.cache import EffectiveCache
from twosigma.system_settings.effective import EffectiveSettings
from twosigma.system_settings.schemas import SettingWrite

KEY = VerifiedKey(1, "pk", "hash", frozenset({"prompts:read"}), None)


def fill(prompts: PromptCache, keys: ApiKeyCache, effective: EffectiveCache) -> None:
    prompts.put(key_for("p", None, "production"), object(), prompts.generation)  # type: ignore[arg-type]
    keys.put("pk", KEY, keys.generation)
    effective.put(None, EffectiveSettings(), effective.generation)


def registered(
    invalidation: CacheInvalidation,
) -> tuple[CacheInvalidation, PromptCache, ApiKeyCache, EffectiveCache]:
    return (
        invalidation,
        invalidation.register(PromptCache()),
        invalidation.register(ApiKeyCache()),
        invalidation.register(EffectiveCache()),
    )


def sizes(*caches: Any) -> tuple[int, ...]:
    return tuple(len(cache) for cache in caches)


class TestDispatch:
    def test_each_cache_names_what_it_invalidates(self) -> None:
        assert (PromptCache.payload, ApiKeyCache.payload, EffectiveCache.payload) == ("prompts", "api_keys", "settings")

    @pytest.mark.parametrize(
        ("payload", "left"),
        [("prompts", (0, 1, 1)), ("api_keys", (1, 0, 1)), ("settings", (1, 1, 0)), ("something-new", (0, 0, 0))],
    )
    def test_a_payload_empties_the_caches_registered_for_it_and_an_unknown_one_all(
        self, payload: str, left: tuple[int, int, int]
    ) -> None:
        invalidation, *caches = registered(CacheInvalidation())
        fill(*caches)
        invalidation.dispatch(payload)
        assert sizes(*caches) == left

    def test_two_caches_of_one_payload_both_empty(self) -> None:
        invalidation = CacheInvalidation()
        first, second = invalidation.register(ApiKeyCache()), invalidation.register(ApiKeyCache())
        for cache in (first, second):
            cache.put("pk", KEY, cache.generation)
        invalidation.dispatch("api_keys")
        assert sizes(first, second) == (0, 0)

    def test_the_apps_caches_are_registered_with_its_service(self, settings: Settings) -> None:
        state = build_state(settings)
        state.prompt_cache.put(key_for("p", None, "x"), object(), 0)  # type: ignore[arg-type]
        state.api_key_cache.put("pk", KEY, 0)
        state.effective_cache.put(None, EffectiveSettings(), 0)
        state.invalidation.clear_all()
        assert sizes(state.prompt_cache, state.api_key_cache, state.effective_cache) == (0, 0, 0)


async def _eventually(check: Callable[[], bool]) -> None:
    """Poll: the listener runs on this loop, so yielding to it is all the waiting there is."""
    for _ in range(500):
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached within 10 seconds")


@pytest.fixture
async def notifier(db_engine: AsyncEngine) -> AsyncIterator[asyncpg.Connection]:
    """Another connection: another process's NOTIFY."""
    conn = await asyncpg.connect(asyncpg_dsn(db_engine))
    try:
        yield conn
    finally:
        await conn.close()


class TestTheListener:
    async def test_a_notify_from_another_connection_empties_only_its_payloads_caches(
        self, db_engine: AsyncEngine, notifier: asyncpg.Connection
    ) -> None:
        invalidation, prompts, keys, effective = registered(CacheInvalidation())
        await invalidation.start_for(db_engine)
        try:
            assert invalidation.listening.is_set()
            fill(prompts, keys, effective)
            await notifier.execute("SELECT pg_notify($1, $2)", CHANNEL, "api_keys")
            await _eventually(lambda: len(keys) == 0)
            assert sizes(prompts, effective) == (1, 1)
            await notifier.execute("SELECT pg_notify($1, $2)", CHANNEL, "a payload of a newer release")
            await _eventually(lambda: sizes(prompts, effective) == (0, 0))
        finally:
            await invalidation.stop()

    async def test_a_lost_connection_empties_every_cache_and_the_listener_comes_back(
        self, db_engine: AsyncEngine, notifier: asyncpg.Connection
    ) -> None:
        invalidation, prompts, keys, effective = registered(CacheInvalidation(probe_interval=0.5))
        await invalidation.start_for(db_engine)
        try:
            fill(prompts, keys, effective)
            await notifier.execute("SELECT pg_terminate_backend($1)", invalidation.backend_pid)
            await _eventually(lambda: sizes(prompts, keys, effective) == (0, 0, 0))
            await _eventually(lambda: invalidation.connections >= 2 and invalidation.listening.is_set())
            fill(prompts, keys, effective)
            await notifier.execute("SELECT pg_notify($1, $2)", CHANNEL, "prompts")
            await _eventually(lambda: len(prompts) == 0)
            assert sizes(keys, effective) == (1, 1)
        finally:
            await invalidation.stop()


@pytest.fixture
def notified(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, list[Any]]]:
    """The (payload, local caches) of every `invalidate` the services call."""
    calls: list[tuple[str, list[Any]]] = []

    async def spy(session: AsyncSession, payload: str, *local: Any) -> None:
        calls.append((payload, list(local)))

    for module in (api_keys_service, settings_service, prompts_service):
        monkeypatch.setattr(module, "invalidate", spy)
    return calls


class TestWriters:
    async def test_revoking_a_key_notifies_api_keys(
        self, db: AsyncSession, settings: Settings, notified: list[tuple[str, list[Any]]]
    ) -> None:
        key_id, _ = await make_api_key(db, settings)
        cache = ApiKeyCache()
        await api_keys_service.revoke_key(db, key_id, cache=cache)
        assert notified == [("api_keys", [cache])]

    async def test_a_settings_write_notifies_settings(
        self, db: AsyncSession, settings: Settings, notified: list[tuple[str, list[Any]]]
    ) -> None:
        cache = EffectiveCache()
        setting = SettingWrite(value=3)
        await settings_service.put_setting(db, settings, "tutor.messages_per_minute", setting, cache=cache)
        assert notified == [("settings", [cache])]

    async def test_a_prompt_write_notifies_prompts(
        self, db: AsyncSession, notified: list[tuple[str, list[Any]]]
    ) -> None:
        cache = PromptCache()
        await prompts_service.create_prompt(db, ADMIN, PromptCreate(name="inv/probe", prompt="x"), cache=cache)
        assert notified == [("prompts", [cache])]
