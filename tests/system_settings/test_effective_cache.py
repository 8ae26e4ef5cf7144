"""The settings in force, cached per app (system_settings/cache.py): read once, emptied by every write through the
service — in this process at once, in the others through the prompts listener's NOTIFY."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete, insert, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from tests.fakes import FakeAnthropic
from tests.fixtures.tenancy import count_statements
from twosigma.config import Settings
from twosigma.db.engine import make_sessionmaker
from twosigma.kit.cache import CacheInvalidation
from twosigma.kit.state import state_of
from twosigma.system_settings import service
from twosigma.system_settings.cache import EffectiveCache, env_key
from twosigma.system_settings.effective import EffectiveSettings, get_effective_settings
from twosigma.system_settings.models import SystemSetting
from twosigma.system_settings.registry import KNOWN_SETTINGS
from twosigma.system_settings.schemas import SettingWrite

Headers = dict[str, str]
SETTINGS = "/api/v1/admin/settings"
CHECK = "/api/v1/admin/llm/test"  # reads the effective settings (the model it reports is llm.default_model)
ENV_MODEL = "claude-from-env"


@pytest.fixture(autouse=True)
def anthropic_from_the_environment(fake_anthropic: FakeAnthropic, monkeypatch: pytest.MonkeyPatch) -> FakeAnthropic:
    """Only what this test sets: the fake Anthropic API, configured through the environment."""
    for spec in KNOWN_SETTINGS.values():
        for name in spec.env_vars:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TWOSIGMA_LLM_PROVIDER", "anthropic")
    monkeypatch.setenv("TWOSIGMA_LLM_ANTHROPIC_API_KEY", "sk-ant-effective-cache-0123456789")
    monkeypatch.setenv("TWOSIGMA_LLM_ANTHROPIC_BASE_URL", fake_anthropic.url)
    monkeypatch.setenv("TWOSIGMA_LLM_TIMEOUT_SECONDS", "5")
    monkeypatch.setenv("TWOSIGMA_LLM_DEFAULT_MODEL", ENV_MODEL)
    return fake_anthropic


@pytest.fixture(autouse=True)
async def _close_llm_clients(app: FastAPI) -> AsyncIterator[None]:
    yield
    await state_of(app).llm_providers.aclose()


def effective_cache(app: FastAPI) -> EffectiveCache:
    cache: EffectiveCache = state_of(app).effective_cache
    return cache


def reading_settings(statements: list[str]) -> list[str]:
    return [s for s in statements if s.startswith("SELECT") and "system_settings" in s]


async def checked_model(client: httpx.AsyncClient, headers: Headers) -> str:
    response = await client.post(CHECK, headers=headers)
    assert response.status_code == 200, response.text
    model: str = response.json()["model"]
    return model


class TestCachedPerApp:
    async def test_a_second_request_reads_no_setting(
        self, app: FastAPI, client: httpx.AsyncClient, admin_headers: Headers, db_engine: AsyncEngine
    ) -> None:
        with count_statements(db_engine) as cold:
            assert await checked_model(client, admin_headers) == ENV_MODEL
        assert reading_settings(cold.statements)  # the cold request read them (the counter sees the app's SQL)
        cached = effective_cache(app).get(env_key())
        assert cached is not None
        assert cached.llm_default_model == ENV_MODEL

        with count_statements(db_engine) as warm:
            assert await checked_model(client, admin_headers) == ENV_MODEL
        assert reading_settings(warm.statements) == []
        assert effective_cache(app).get(env_key()) is cached

    async def test_a_changed_environment_is_seen_at_once(
        self, client: httpx.AsyncClient, admin_headers: Headers, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        assert await checked_model(client, admin_headers) == ENV_MODEL
        monkeypatch.setenv("TWOSIGMA_LLM_DEFAULT_MODEL", "claude-env-changed")
        assert await checked_model(client, admin_headers) == "claude-env-changed"

    async def test_a_row_changed_behind_the_services_back_is_not_seen_while_cached(
        self, client: httpx.AsyncClient, admin_headers: Headers, db: AsyncSession
    ) -> None:
        # What the cache trades: only writes through the service (API, CLI) invalidate it.
        response = await client.put(f"{SETTINGS}/llm.default_model", json={"value": "claude-a"}, headers=admin_headers)
        assert response.status_code == 200, response.text
        assert await checked_model(client, admin_headers) == "claude-a"
        await db.execute(
            update(SystemSetting)
            .where(SystemSetting.setting_key == "llm.default_model")
            .values(setting_value='"claude-by-hand"')
        )
        assert await checked_model(client, admin_headers) == "claude-a"


class TestWritesThroughTheApi:
    async def test_put_empties_the_cache_and_the_next_request_sees_the_new_value(
        self, app: FastAPI, client: httpx.AsyncClient, admin_headers: Headers
    ) -> None:
        assert await checked_model(client, admin_headers) == ENV_MODEL
        assert await checked_model(client, admin_headers) == ENV_MODEL  # warm
        for model in ("claude-a", "claude-b"):
            response = await client.put(f"{SETTINGS}/llm.default_model", json={"value": model}, headers=admin_headers)
            assert response.status_code == 200, response.text
            assert len(effective_cache(app)) == 0
            assert await checked_model(client, admin_headers) == model
            assert await checked_model(client, admin_headers) == model

    async def test_delete_empties_the_cache_and_the_next_request_falls_back(
        self, app: FastAPI, client: httpx.AsyncClient, admin_headers: Headers
    ) -> None:
        await client.put(f"{SETTINGS}/llm.default_model", json={"value": "claude-stored"}, headers=admin_headers)
        assert await checked_model(client, admin_headers) == "claude-stored"
        assert len(effective_cache(app)) == 1
        response = await client.delete(f"{SETTINGS}/llm.default_model", headers=admin_headers)
        assert response.status_code == 204
        assert len(effective_cache(app)) == 0
        assert await checked_model(client, admin_headers) == ENV_MODEL

    async def test_a_refused_write_keeps_the_cache(
        self, app: FastAPI, client: httpx.AsyncClient, admin_headers: Headers
    ) -> None:
        assert await checked_model(client, admin_headers) == ENV_MODEL
        response = await client.put(f"{SETTINGS}/llm.max_tokens", json={"value": "many"}, headers=admin_headers)
        assert response.status_code == 422
        assert (await client.delete(f"{SETTINGS}/ui.never-stored", headers=admin_headers)).status_code == 404
        assert len(effective_cache(app)) == 1


class TestServiceWrites:
    """Every write of the service empties the cache it is given (the process's: the app's)."""

    @pytest.fixture
    def warm(self) -> EffectiveCache:
        cache = EffectiveCache()
        cache.put(None, EffectiveSettings(), cache.generation)
        return cache

    async def test_put_setting(self, db: AsyncSession, settings: Settings, warm: EffectiveCache) -> None:
        await service.put_setting(db, settings, "tutor.messages_per_minute", SettingWrite(value=3), cache=warm)
        assert len(warm) == 0

    async def test_delete_setting(self, db: AsyncSession, settings: Settings, warm: EffectiveCache) -> None:
        await service.put_setting(db, settings, "tutor.messages_per_minute", SettingWrite(value=3))
        warm.put(None, EffectiveSettings(), warm.generation)
        await service.delete_setting(db, "tutor.messages_per_minute", cache=warm)
        assert len(warm) == 0

    async def test_rotate_encryption(self, db: AsyncSession, settings: Settings, warm: EffectiveCache) -> None:
        await service.rotate_encryption(db, settings, cache=warm)
        assert len(warm) == 0

    async def test_a_read_that_raced_a_write_is_not_stored(self) -> None:
        cache = EffectiveCache()
        generation = cache.generation
        cache.clear()
        cache.put(None, EffectiveSettings(), generation)
        assert cache.get(None) is None


# --- Across processes ------------------------------------------------------------------------------------------

KEY = "tutor.messages_per_minute"


@pytest.fixture
async def engines(db_engine: AsyncEngine) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    a = create_async_engine(db_engine.url)
    b = create_async_engine(db_engine.url)
    yield a, b
    await a.dispose()
    await b.dispose()
    async with db_engine.begin() as conn:
        await conn.execute(delete(SystemSetting).where(SystemSetting.setting_key.in_([KEY, "ui.effective-probe"])))


async def _eventually(check: Callable[[], bool]) -> None:
    """Poll: the listener runs on this loop, so yielding to it is all the waiting there is."""
    for _ in range(500):
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached within 10 seconds")


class TestAcrossProcesses:
    async def test_a_setting_committed_by_another_process_empties_this_processs_cache(
        self, engines: tuple[AsyncEngine, AsyncEngine], settings: Settings
    ) -> None:
        writer, reader = engines
        listener = CacheInvalidation()
        cache = listener.register(EffectiveCache())
        await listener.start_for(reader)
        assert listener.listening.is_set()
        try:
            async with make_sessionmaker(reader)() as session:
                before = await get_effective_settings(session, settings)
            cache.put(None, before, cache.generation)

            # A row written without the service notifies nobody: the cache stays (so the clear below is the NOTIFY's).
            async with writer.begin() as conn:
                await conn.execute(insert(SystemSetting).values(setting_key="ui.effective-probe", setting_value="1"))
            await asyncio.sleep(0.2)
            assert cache.get(None) is before

            # Another process writes through the service, with a cache of its own: only the NOTIFY reaches ours.
            async with make_sessionmaker(writer)() as session:
                await service.put_setting(session, settings, KEY, SettingWrite(value=7), cache=EffectiveCache())
                await session.commit()
            await _eventually(lambda: len(cache) == 0)
            async with make_sessionmaker(reader)() as session:
                assert (await get_effective_settings(session, settings)).tutor_messages_per_minute == 7
        finally:
            await listener.stop()

    async def test_a_rolled_back_write_empties_no_other_process(
        self, engines: tuple[AsyncEngine, AsyncEngine], settings: Settings
    ) -> None:
        writer, reader = engines
        listener = CacheInvalidation()
        cache = listener.register(EffectiveCache())
        await listener.start_for(reader)
        try:
            cache.put(None, EffectiveSettings(), cache.generation)
            async with make_sessionmaker(writer)() as session:
                await service.put_setting(session, settings, KEY, SettingWrite(value=9), cache=EffectiveCache())
                await session.rollback()
            await asyncio.sleep(0.2)
            assert len(cache) == 1
        finally:
            await listener.stop()
