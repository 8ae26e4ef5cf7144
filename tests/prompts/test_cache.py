"""The per-process cache of resolved prompts and its invalidation across processes by LISTEN/NOTIFY."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from tests.fixtures.prompts import basic_auth, make_prompt
from twosigma.api_keys.models import ApiKey
from twosigma.api_keys.scopes import Scope
from twosigma.api_keys.service import create_key
from twosigma.app import create_app
from twosigma.config import Settings
from twosigma.db.engine import Database, make_sessionmaker
from twosigma.kit.state import state_of
from twosigma.prompts.cache import PromptCache, key_for
from twosigma.prompts.models import Prompt, PromptLabelEvent
from twosigma.prompts.schemas import PromptCreate
from twosigma.prompts.services.changes import create_prompt
from twosigma.prompts.services.queries import get_prompt

NAME = "cache/probe"
URL = "/api/public/v2/prompts"


class TestPromptCache:
    async def test_reads_are_served_from_the_cache(self, db: AsyncSession) -> None:
        await make_prompt(db, "cached", "one", labels=["production"])
        cache = PromptCache()
        first = await get_prompt(db, "cached", cache=cache)
        # Changed behind the service's back (no invalidation): the cached answer is still served.
        await db.execute(update(Prompt).where(Prompt.name == "cached").values(prompt="changed"))
        assert await get_prompt(db, "cached", cache=cache) is first
        assert (await get_prompt(db, "cached", resolve=False, cache=cache)).prompt == "changed"

    async def test_a_write_clears_the_writers_cache(self, db: AsyncSession) -> None:
        await make_prompt(db, "cached", "one", labels=["production"])
        cache = PromptCache()
        await get_prompt(db, "cached", cache=cache)
        from tests.fixtures.prompts import ADMIN

        await create_prompt(db, ADMIN, PromptCreate(name="cached", prompt="two", labels=["production"]), cache=cache)
        assert len(cache) == 0
        assert (await get_prompt(db, "cached", cache=cache)).prompt == "two"

    def test_a_read_that_raced_a_clear_is_not_stored(self) -> None:
        cache = PromptCache()
        generation = cache.generation
        cache.clear()
        cache.put(key_for("x", None, "production"), object(), generation)  # type: ignore[arg-type]
        assert len(cache) == 0


@dataclass
class Instance:
    app: FastAPI
    client: httpx.AsyncClient

    @property
    def cache(self) -> PromptCache:
        cache: PromptCache = state_of(self.app).prompt_cache
        return cache


@pytest.fixture
async def engines(db_engine: AsyncEngine) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    a = create_async_engine(db_engine.url)
    b = create_async_engine(db_engine.url)
    yield a, b
    await a.dispose()
    await b.dispose()


@pytest.fixture
async def two_apps(
    engines: tuple[AsyncEngine, AsyncEngine], db_engine: AsyncEngine, settings: Settings
) -> AsyncIterator[tuple[Instance, Instance, dict[str, str]]]:
    """Two apps, as two server processes would be: own engines, own caches; committed data, cleaned up."""
    async with make_sessionmaker(db_engine)() as session:
        created = await create_key(session, settings, "cache test", None, tuple(Scope))
        await session.commit()
    instances = []
    for engine in engines:
        app = create_app(settings=settings, database=Database(engine=engine, sessionmaker=make_sessionmaker(engine)))
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
        instances.append(Instance(app, client))
    try:
        yield instances[0], instances[1], basic_auth(created.key.public_key, created.secret_key)
    finally:
        for instance in instances:
            await instance.client.aclose()
        async with db_engine.begin() as conn:
            await conn.execute(delete(Prompt).where(Prompt.name == NAME))
            await conn.execute(delete(PromptLabelEvent).where(PromptLabelEvent.prompt_name == NAME))
            await conn.execute(delete(ApiKey).where(ApiKey.id == created.key.id))


async def _eventually(check: Callable[[], bool]) -> None:
    """Poll: the listener runs on the same loop, so yielding to it is all the waiting there is."""
    for _ in range(500):
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached within 10 seconds")


async def _served(instance: Instance, basic: dict[str, str]) -> str:
    response = await instance.client.get(f"{URL}/{NAME}", headers=basic)
    assert response.status_code == 200, response.text
    prompt: str = response.json()["prompt"]
    return prompt


class TestInvalidationAcrossProcesses:
    async def test_a_write_through_one_app_reaches_the_other_apps_cache(
        self, two_apps: tuple[Instance, Instance, dict[str, str]], engines: tuple[AsyncEngine, AsyncEngine]
    ) -> None:
        a, b, basic = two_apps
        listener = state_of(b.app).invalidation
        await listener.start_for(engines[1])
        try:
            created = await a.client.post(
                URL, json={"name": NAME, "prompt": "one", "labels": ["production"]}, headers=basic
            )
            assert created.status_code == 201
            await _eventually(lambda: len(b.cache) == 0)
            assert await _served(b, basic) == "one"
            assert len(b.cache) == 1
            await a.client.post(URL, json={"name": NAME, "prompt": "two", "labels": ["production"]}, headers=basic)
            await _eventually(lambda: len(b.cache) == 0)
            assert await _served(b, basic) == "two"
        finally:
            await listener.stop()

    async def test_without_a_listener_the_other_app_would_serve_stale_data(
        self, two_apps: tuple[Instance, Instance, dict[str, str]]
    ) -> None:
        a, b, basic = two_apps
        await a.client.post(URL, json={"name": NAME, "prompt": "one", "labels": ["production"]}, headers=basic)
        assert await _served(b, basic) == "one"
        await a.client.post(URL, json={"name": NAME, "prompt": "two", "labels": ["production"]}, headers=basic)
        assert await _served(a, basic) == "two"
        assert await _served(b, basic) == "one"  # what the listener exists to prevent

    async def test_the_listener_reconnects_after_its_connection_is_killed(
        self,
        two_apps: tuple[Instance, Instance, dict[str, str]],
        engines: tuple[AsyncEngine, AsyncEngine],
        db_engine: AsyncEngine,
    ) -> None:
        a, b, basic = two_apps
        listener = state_of(b.app).invalidation
        listener.probe_interval = 0.5
        await listener.start_for(engines[1])
        try:
            pid = listener.backend_pid
            async with db_engine.connect() as conn:
                await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            await _eventually(lambda: listener.connections >= 2 and listener.listening.is_set())
            await a.client.post(URL, json={"name": NAME, "prompt": "one", "labels": ["production"]}, headers=basic)
            assert await _served(b, basic) == "one"
            await a.client.post(URL, json={"name": NAME, "prompt": "two", "labels": ["production"]}, headers=basic)
            await _eventually(lambda: len(b.cache) == 0)
            assert await _served(b, basic) == "two"
        finally:
            await listener.stop()
