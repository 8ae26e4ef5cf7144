"""The per-app cache of verified API keys (api_keys/cache.py): a warm key costs no query, a wrong secret is still
refused, and revocation empties it, here at once and in other processes through the prompts listener."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from tests.fixtures.prompts import basic_auth, make_prompt, platform_admin
from tests.fixtures.tenancy import count_statements
from twosigma.api_keys import service
from twosigma.api_keys.cache import ApiKeyCache
from twosigma.api_keys.models import ApiKey
from twosigma.api_keys.service import TOUCH_EVERY, create_key
from twosigma.app import create_app
from twosigma.config import Settings
from twosigma.db.engine import Database, make_sessionmaker
from twosigma.kit.state import state_of
from twosigma.prompts.models import Prompt, PromptLabelEvent

KEYS = "/api/v1/api-keys"
PROMPT = "keycache/probe"
URL = f"/api/public/v2/prompts/{PROMPT}"


@dataclasses.dataclass
class Key:
    id: int
    public_key: str
    secret_key: str

    @property
    def basic(self) -> dict[str, str]:
        return basic_auth(self.public_key, self.secret_key)


@pytest.fixture
async def key(db: AsyncSession, settings: Settings) -> Key:
    created = await create_key(db, settings, "cache probe", None)
    await make_prompt(db, PROMPT, "Hello", labels=["production"])
    return Key(created.key.id, created.key.public_key, created.secret_key)


def key_cache(app: FastAPI) -> ApiKeyCache:
    cache: ApiKeyCache = state_of(app).api_key_cache
    return cache


def touching_api_keys(statements: list[str]) -> list[str]:
    return [s for s in statements if "api_keys" in s]


async def last_used_at(db: AsyncSession, key_id: int) -> datetime | None:
    value: datetime | None = await db.scalar(
        select(ApiKey.last_used_at).where(ApiKey.id == key_id).execution_options(populate_existing=True)
    )
    return value


class TestWarmKey:
    async def test_a_second_request_with_the_same_key_queries_no_api_key(
        self, app: FastAPI, client: httpx.AsyncClient, db_engine: AsyncEngine, key: Key
    ) -> None:
        with count_statements(db_engine) as cold:
            first = await client.get(URL, headers=key.basic)
        assert first.status_code == 200, first.text
        assert touching_api_keys(cold.statements)  # the cold request read the key (the counter sees the app's SQL)
        cached = key_cache(app).get(key.public_key)
        assert cached is not None
        assert cached.id == key.id

        with count_statements(db_engine) as warm:
            second = await client.get(URL, headers=key.basic)
        assert second.status_code == 200, second.text
        assert touching_api_keys(warm.statements) == []

    async def test_a_wrong_secret_for_a_cached_public_key_is_401(
        self, app: FastAPI, client: httpx.AsyncClient, db_engine: AsyncEngine, key: Key
    ) -> None:
        assert (await client.get(URL, headers=key.basic)).status_code == 200
        assert len(key_cache(app)) == 1
        with count_statements(db_engine) as statements:
            wrong = await client.get(URL, headers=basic_auth(key.public_key, key.secret_key + "x"))
        assert wrong.status_code == 401
        assert wrong.json()["error"]["code"] == "invalid_api_key"
        assert touching_api_keys(statements.statements) == []  # refused against the cached hash
        assert (await client.get(URL, headers=basic_auth(key.public_key, ""))).status_code == 401
        assert (await client.get(URL, headers=key.basic)).status_code == 200  # the right secret still works

    async def test_the_cache_holds_the_secrets_hash_never_the_secret(
        self, app: FastAPI, client: httpx.AsyncClient, key: Key
    ) -> None:
        assert (await client.get(URL, headers=key.basic)).status_code == 200
        cached = key_cache(app).get(key.public_key)
        assert cached is not None
        assert key.secret_key not in repr(cached)
        assert cached.secret_hash == service.hash_secret(state_of(app).settings, key.secret_key)

    async def test_an_unknown_or_refused_key_is_not_cached(
        self, app: FastAPI, client: httpx.AsyncClient, key: Key
    ) -> None:
        assert (await client.get(URL, headers=basic_auth("pk-lf-nobody", "sk-lf-x"))).status_code == 401
        assert (await client.get(URL, headers=basic_auth(key.public_key, "sk-lf-wrong"))).status_code == 401
        assert len(key_cache(app)) == 0


class TestRevocation:
    async def test_revoking_through_the_api_refuses_the_next_request_of_a_warm_key(
        self, app: FastAPI, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, key: Key
    ) -> None:
        admin = await platform_admin(db, settings)
        assert (await client.get(URL, headers=key.basic)).status_code == 200
        assert key_cache(app).get(key.public_key) is not None

        response = await client.delete(f"{KEYS}/{key.id}", headers=admin)
        assert response.status_code == 204
        assert len(key_cache(app)) == 0

        refused = await client.get(URL, headers=key.basic)
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "invalid_api_key"
        assert len(key_cache(app)) == 0  # a revoked key is never cached again

    async def test_revoking_another_key_also_empties_the_cache(
        self, app: FastAPI, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, key: Key
    ) -> None:
        other = await create_key(db, settings, "other", None)
        assert (await client.get(URL, headers=key.basic)).status_code == 200
        generation = key_cache(app).generation
        response = await client.delete(f"{KEYS}/{other.key.id}", headers=await platform_admin(db, settings))
        assert response.status_code == 204
        assert key_cache(app).generation > generation
        assert (await client.get(URL, headers=key.basic)).status_code == 200  # read again, still valid


class TestLastUsed:
    async def test_the_first_use_writes_last_used_at_and_the_next_uses_within_a_minute_do_not(
        self, app: FastAPI, client: httpx.AsyncClient, db: AsyncSession, db_engine: AsyncEngine, key: Key
    ) -> None:
        assert await last_used_at(db, key.id) is None
        before = datetime.now(UTC)
        with count_statements(db_engine) as first:
            assert (await client.get(URL, headers=key.basic)).status_code == 200
        assert [s for s in first.statements if s.startswith("UPDATE api_keys")]
        written = await last_used_at(db, key.id)
        assert written is not None
        assert before - timedelta(seconds=1) <= written <= datetime.now(UTC)

        with count_statements(db_engine) as again:
            for _ in range(3):
                assert (await client.get(URL, headers=key.basic)).status_code == 200
        assert touching_api_keys(again.statements) == []
        assert await last_used_at(db, key.id) == written

    async def test_a_minute_after_the_last_write_the_next_use_writes_again(
        self, app: FastAPI, client: httpx.AsyncClient, db: AsyncSession, db_engine: AsyncEngine, key: Key
    ) -> None:
        assert (await client.get(URL, headers=key.basic)).status_code == 200
        cache = key_cache(app)
        cached = cache.get(key.public_key)
        assert cached is not None
        assert cached.last_used_at is not None
        # As if the last write was over a minute ago.
        stale = cached.last_used_at - TOUCH_EVERY - timedelta(seconds=1)
        cache.put(key.public_key, dataclasses.replace(cached, last_used_at=stale), cache.generation)

        with count_statements(db_engine) as statements:
            assert (await client.get(URL, headers=key.basic)).status_code == 200
        updates = [s for s in statements.statements if s.startswith("UPDATE api_keys")]
        assert len(updates) == 1
        refreshed = cache.get(key.public_key)
        assert refreshed is not None
        assert refreshed.last_used_at is not None
        assert refreshed.last_used_at > cached.last_used_at

    async def test_a_cold_cache_trusts_a_recent_last_used_at_from_the_database(
        self, app: FastAPI, client: httpx.AsyncClient, db_engine: AsyncEngine, key: Key
    ) -> None:
        assert (await client.get(URL, headers=key.basic)).status_code == 200
        state_of(app).api_key_cache = ApiKeyCache()  # another process, or after a revocation elsewhere
        with count_statements(db_engine) as statements:
            assert (await client.get(URL, headers=key.basic)).status_code == 200
        assert [s for s in statements.statements if s.startswith("SELECT") and "api_keys" in s]
        assert not [s for s in statements.statements if s.startswith("UPDATE api_keys")]


# --- Across processes ------------------------------------------------------------------------------------------


@pytest.fixture
async def engines(db_engine: AsyncEngine) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    a = create_async_engine(db_engine.url)
    b = create_async_engine(db_engine.url)
    yield a, b
    await a.dispose()
    await b.dispose()


@pytest.fixture
async def committed_key(db_engine: AsyncEngine, settings: Settings) -> AsyncIterator[Key]:
    """A key and a prompt committed for real (other engines must see them); removed afterwards."""
    async with make_sessionmaker(db_engine)() as session:
        created = await create_key(session, settings, "cross-process cache test", None)
        await make_prompt(session, PROMPT, "Hello", labels=["production"])
        await session.commit()
    try:
        yield Key(created.key.id, created.key.public_key, created.secret_key)
    finally:
        async with db_engine.begin() as conn:
            await conn.execute(delete(Prompt).where(Prompt.name == PROMPT))
            await conn.execute(delete(PromptLabelEvent).where(PromptLabelEvent.prompt_name == PROMPT))
            await conn.execute(delete(ApiKey).where(ApiKey.id == created.key.id))


async def _eventually(check: Callable[[], bool]) -> None:
    """Poll: the listener runs on this loop, so yielding to it is all the waiting there is."""
    for _ in range(500):
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached within 10 seconds")


class TestRevocationAcrossProcesses:
    async def test_a_revocation_committed_elsewhere_empties_this_processs_key_cache(
        self, engines: tuple[AsyncEngine, AsyncEngine], committed_key: Key, settings: Settings
    ) -> None:
        writer, reader = engines
        app = create_app(settings=settings, database=Database(engine=reader, sessionmaker=make_sessionmaker(reader)))
        keys: ApiKeyCache = state_of(app).api_key_cache
        listener = state_of(app).invalidation
        await listener.start_for(reader)
        assert listener.listening.is_set()
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
                assert (await client.get(URL, headers=committed_key.basic)).status_code == 200
                assert keys.get(committed_key.public_key) is not None

                # A write that notifies nobody leaves the cache warm (so the clear below is the revocation's).
                async with writer.begin() as conn:
                    await conn.execute(update(ApiKey).where(ApiKey.id == committed_key.id).values(name="renamed"))
                await asyncio.sleep(0.2)
                assert keys.get(committed_key.public_key) is not None

                # Another process revokes, with caches of its own: only the NOTIFY can reach ours.
                async with make_sessionmaker(writer)() as session:
                    await service.revoke_key(session, committed_key.id, cache=ApiKeyCache())
                    await session.commit()
                await _eventually(lambda: len(keys) == 0)

                refused = await client.get(URL, headers=committed_key.basic)
                assert refused.status_code == 401
                assert refused.json()["error"]["code"] == "invalid_api_key"
        finally:
            await listener.stop()
