"""The official `langfuse` Python SDK, unchanged, against this server on 127.0.0.1 (committed data, cleaned up)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
from langfuse import Langfuse
from langfuse.api import AccessDeniedError, NotFoundError
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from tests.fixtures.live_server import serve
from twosigma.api_keys.models import ApiKey
from twosigma.api_keys.scopes import Scope
from twosigma.api_keys.service import create_key
from twosigma.app import create_app
from twosigma.config import Settings
from twosigma.db.engine import Database, make_sessionmaker
from twosigma.prompts.models import Prompt, PromptLabelEvent

NAMES = ("sdk/text", "sdk/chat", "sdk/base", "sdk/scoped", "sdk/part", "sdk/root")


@dataclass
class Server:
    url: str
    public_key: str
    secret_key: str

    def client(self, public_key: str | None = None, secret_key: str | None = None) -> Langfuse:
        return Langfuse(
            public_key=public_key or self.public_key,
            secret_key=secret_key or self.secret_key,
            host=self.url,
            tracing_enabled=False,
            timeout=10,
        )


@pytest.fixture
async def live(db_engine: AsyncEngine, settings: Settings) -> AsyncIterator[Server]:
    # The server's engine opens its connections on the server's own loop; NullPool leaves none to dispose across loops.
    engine = create_async_engine(db_engine.url, poolclass=NullPool)
    app = create_app(settings=settings, database=Database(engine=engine, sessionmaker=make_sessionmaker(engine)))
    async with make_sessionmaker(db_engine)() as session:
        created = await create_key(session, settings, "sdk test", None, tuple(Scope))
        await session.commit()
    try:
        with serve(app) as url:
            yield Server(url, created.key.public_key, created.secret_key)
    finally:
        async with db_engine.begin() as conn:
            await conn.execute(delete(Prompt).where(Prompt.name.in_(NAMES)))
            await conn.execute(delete(PromptLabelEvent).where(PromptLabelEvent.prompt_name.in_(NAMES)))
            await conn.execute(delete(ApiKey).where(ApiKey.id == created.key.id))
        await engine.dispose()


@pytest.fixture
def langfuse(live: Server) -> Iterator[Langfuse]:
    client = live.client()
    yield client
    client.shutdown()


class TestLangfuseSdk:
    async def test_text_prompt_round_trip(self, langfuse: Langfuse) -> None:
        def scenario() -> None:
            created = langfuse.create_prompt(
                name="sdk/text", prompt="Hello {{name}}", labels=["production"], tags=["sdk"], commit_message="v1"
            )
            assert (created.version, created.commit_message) == (1, "v1")
            langfuse.create_prompt(name="sdk/text", prompt="Hi {{name}}!", labels=[])
            by_label = langfuse.get_prompt("sdk/text", cache_ttl_seconds=0)
            assert (by_label.version, by_label.compile(name="Ada")) == (1, "Hello Ada")
            by_version = langfuse.get_prompt("sdk/text", version=2, cache_ttl_seconds=0)
            assert by_version.compile(name="Ada") == "Hi Ada!"
            assert sorted(by_version.labels) == ["latest"]
            assert by_version.tags == ["sdk"]
            langfuse.update_prompt(name="sdk/text", version=2, new_labels=["production"])
            promoted = langfuse.get_prompt("sdk/text", label="production", cache_ttl_seconds=0)
            assert promoted.version == 2

        await asyncio.to_thread(scenario)

    async def test_chat_prompt_round_trip(self, langfuse: Langfuse) -> None:
        def scenario() -> None:
            langfuse.create_prompt(name="sdk/base", prompt="Be patient.", labels=["production"])
            langfuse.create_prompt(
                name="sdk/chat",
                type="chat",
                prompt=[
                    {
                        "role": "system",
                        "content": "@@@langfusePrompt:name=sdk/base|label=production@@@ Teach {{topic}}.",
                    },
                    {"type": "placeholder", "name": "history"},
                ],
                labels=["production"],
            )
            chat = langfuse.get_prompt("sdk/chat", type="chat", cache_ttl_seconds=0)
            compiled = chat.compile(topic="fractions", history=[{"role": "user", "content": "hi"}])
            assert compiled == [
                {"role": "system", "content": "Be patient. Teach fractions."},
                {"role": "user", "content": "hi"},
            ]

        await asyncio.to_thread(scenario)

    async def test_missing_prompt_raises_the_sdks_not_found(self, langfuse: Langfuse) -> None:
        def scenario() -> None:
            with pytest.raises(NotFoundError):
                langfuse.get_prompt("sdk/text", label="nowhere", cache_ttl_seconds=0, max_retries=0)

        await asyncio.to_thread(scenario)


@dataclass
class ScopedClients:
    read: Langfuse
    write: Langfuse
    deploy: Langfuse


@pytest.fixture
async def scoped(live: Server, db_engine: AsyncEngine, settings: Settings) -> AsyncIterator[ScopedClients]:
    """SDK clients on a read-only key, a write key and a deploy key (committed, removed afterwards)."""
    async with make_sessionmaker(db_engine)() as session:
        made = [
            await create_key(session, settings, f"sdk {name}", None, scopes)
            for name, scopes in (
                ("read", ()),
                ("write", (Scope.PROMPTS_WRITE,)),
                ("deploy", (Scope.PROMPTS_DEPLOY,)),
            )
        ]
        await session.commit()
    clients = [live.client(created.key.public_key, created.secret_key) for created in made]
    try:
        yield ScopedClients(*clients)
    finally:
        for client in clients:
            client.shutdown()
        async with db_engine.begin() as conn:
            await conn.execute(delete(ApiKey).where(ApiKey.id.in_([created.key.id for created in made])))


class TestSdkScopes:
    async def test_a_read_only_key_gets_but_cannot_create(self, langfuse: Langfuse, scoped: ScopedClients) -> None:
        def scenario() -> None:
            langfuse.create_prompt(name="sdk/scoped", prompt="v1", labels=["production"])
            assert scoped.read.get_prompt("sdk/scoped", cache_ttl_seconds=0).prompt == "v1"
            with pytest.raises(AccessDeniedError) as refused:
                scoped.read.create_prompt(name="sdk/scoped", prompt="v2", labels=[])
            assert refused.value.status_code == 403
            assert refused.value.body["error"]["code"] == "insufficient_scope"
            assert refused.value.body["error"]["details"]["required_scope"] == "prompts:write"

        await asyncio.to_thread(scenario)

    async def test_a_write_key_creates_versions_but_never_touches_production(
        self, langfuse: Langfuse, scoped: ScopedClients
    ) -> None:
        def scenario() -> None:
            langfuse.create_prompt(name="sdk/scoped", prompt="v1", labels=["production"])
            created = scoped.write.create_prompt(name="sdk/scoped", prompt="v2", labels=["staging"])
            assert created.version == 2
            with pytest.raises(AccessDeniedError) as on_create:
                scoped.write.create_prompt(name="sdk/scoped", prompt="v3", labels=["production"])
            with pytest.raises(AccessDeniedError) as on_move:
                scoped.write.update_prompt(name="sdk/scoped", version=2, new_labels=["production"])
            for refused in (on_create, on_move):
                assert refused.value.body["error"]["details"]["required_scope"] == "prompts:deploy"
            served = scoped.write.get_prompt("sdk/scoped", cache_ttl_seconds=0)
            assert (served.version, served.prompt) == (1, "v1")

        await asyncio.to_thread(scenario)

    async def test_a_deploy_key_creates_and_moves_production(self, langfuse: Langfuse, scoped: ScopedClients) -> None:
        def scenario() -> None:
            langfuse.create_prompt(name="sdk/scoped", prompt="v1", labels=["production"])
            scoped.deploy.create_prompt(name="sdk/scoped", prompt="v2", labels=["production"])
            assert scoped.deploy.get_prompt("sdk/scoped", cache_ttl_seconds=0).version == 2
            scoped.deploy.update_prompt(name="sdk/scoped", version=1, new_labels=["production"])
            assert scoped.deploy.get_prompt("sdk/scoped", cache_ttl_seconds=0).version == 1

        await asyncio.to_thread(scenario)

    async def test_a_write_key_cannot_change_production_through_a_label_it_reads(
        self, langfuse: Langfuse, scoped: ScopedClients
    ) -> None:
        def scenario() -> None:
            langfuse.create_prompt(name="sdk/part", prompt="honest part", labels=[])
            root = "Tutor: @@@langfusePrompt:name=sdk/part|label=latest@@@"
            langfuse.create_prompt(name="sdk/root", prompt=root, labels=["production"])
            with pytest.raises(AccessDeniedError) as refused:
                scoped.write.create_prompt(name="sdk/part", prompt="EVIL TEXT", labels=[])
            error = refused.value.body["error"]
            assert error["details"]["required_scope"] == "prompts:deploy"
            assert error["details"]["dependents"] == ["sdk/root v1 depends on sdk/part latest"]
            assert scoped.write.get_prompt("sdk/root", cache_ttl_seconds=0).prompt == "Tutor: honest part"
            scoped.deploy.create_prompt(name="sdk/part", prompt="reviewed part", labels=[])
            assert scoped.write.get_prompt("sdk/root", cache_ttl_seconds=0).prompt == "Tutor: reviewed part"

        await asyncio.to_thread(scenario)
