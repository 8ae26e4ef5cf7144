"""The public GET of a prompt, an ordinary route over the prompt cache: it serves cached response bytes
(PromptCache.body), the same bytes as a cold read, with no SQL statement when warm; they go with the prompt cache
on any write (in this process at once, in others by NOTIFY: tests/prompts/test_cache.py)."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from tests.fixtures.prompts import EVERY_SCOPE, make_api_key
from tests.fixtures.tenancy import count_statements
from twosigma.config import Settings
from twosigma.kit.logging import ACCESS_LOGGER
from twosigma.kit.state import state_of
from twosigma.prompts.cache import PromptCache, key_for
from twosigma.prompts.composition import ResolvedPrompt
from twosigma.prompts.routers import langfuse as public_router
from twosigma.prompts.schemas import PromptRead
from twosigma.prompts.services.queries import get_prompt

URL = "/api/public/v2/prompts"
NAME = "body/probe"


def ref(name: str, *, version: int | None = None, label: str | None = None) -> str:
    selector = f"version={version}" if version is not None else f"label={label}"
    return f"@@@langfusePrompt:name={name}|{selector}@@@"


@pytest.fixture
async def basic(db: AsyncSession, settings: Settings) -> dict[str, str]:
    return (await make_api_key(db, settings, scopes=EVERY_SCOPE))[1]


def prompt_cache(app: FastAPI) -> PromptCache:
    cache: PromptCache = state_of(app).prompt_cache
    return cache


async def create(client: httpx.AsyncClient, basic: dict[str, str], **body: Any) -> dict[str, Any]:
    response = await client.post(URL, json=body, headers=basic)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def get(client: httpx.AsyncClient, basic: dict[str, str], name: str = NAME, **params: Any) -> httpx.Response:
    response = await client.get(f"{URL}/{name}", params=params, headers=basic)
    assert response.status_code == 200, response.text
    return response


def expected_bytes(resolved: ResolvedPrompt) -> bytes:
    """The JSON of PromptRead by alias (camelCase): what response_model=PromptRead stands for."""
    return PromptRead.model_validate(resolved).model_dump_json(by_alias=True).encode()


class TestTheCachedBody:
    async def test_warm_and_cold_bodies_are_the_same_bytes_the_prompt_read_json(
        self, app: FastAPI, client: httpx.AsyncClient, db: AsyncSession, basic: dict[str, str]
    ) -> None:
        await create(client, basic, name="body/base", prompt="Be kind.", labels=["production"])
        await create(
            client,
            basic,
            name=NAME,
            prompt="Rules: " + ref("body/base", label="production") + " Hi {{name}}",
            labels=["production"],
            tags=["t"],
            config={"temperature": 0.2, "nested": {"a": [1, 2]}},
            commitMessage="first",
        )
        cold = await get(client, basic)
        assert prompt_cache(app).body(key_for(NAME, None, "production")) == cold.content
        warm = await get(client, basic)
        assert warm.content == cold.content
        assert warm.headers["content-type"] == cold.headers["content-type"] == "application/json"

        resolved = await get_prompt(db, NAME, cache=PromptCache())
        assert cold.content == expected_bytes(resolved)
        body = warm.json()
        assert body["prompt"] == "Rules: Be kind. Hi {{name}}"
        assert {"commitMessage", "createdBy", "createdAt", "updatedAt", "resolutionGraph"} <= body.keys()
        assert body["resolutionGraph"]["root"]["name"] == NAME

    async def test_the_body_matches_what_fastapis_response_model_sends(
        self, client: httpx.AsyncClient, basic: dict[str, str]
    ) -> None:
        # POST and GET ?resolve=false still go through response_model=PromptRead; with no references to resolve,
        # they describe the same prompt as the cached GET.
        created = await create(client, basic, name=NAME, prompt="Plain {{x}}", labels=["production"], tags=["a"])
        raw = (await get(client, basic, resolve="false")).json()
        cold = (await get(client, basic)).json()
        warm = (await get(client, basic)).json()
        assert cold == warm == raw == created

    async def test_a_warm_get_neither_queries_nor_serializes(
        self,
        client: httpx.AsyncClient,
        db_engine: AsyncEngine,
        basic: dict[str, str],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        await create(client, basic, name=NAME, prompt="Hello", labels=["production"])
        serialized: list[str] = []
        serialize = public_router._serialize

        def counting(prompt: ResolvedPrompt) -> bytes:
            serialized.append(prompt.name)
            return serialize(prompt)

        monkeypatch.setattr(public_router, "_serialize", counting)
        await get(client, basic)
        assert serialized == [NAME]
        await get(client, basic)  # warms the API key too
        with count_statements(db_engine) as statements:
            await get(client, basic)
        assert serialized == [NAME]
        assert statements.statements == []  # not even for the key, which is cached too

    async def test_a_warm_get_is_logged_by_its_route_template(
        self, client: httpx.AsyncClient, basic: dict[str, str], caplog: pytest.LogCaptureFixture
    ) -> None:
        await create(client, basic, name=NAME, prompt="Hello", labels=["production"])
        await get(client, basic)
        caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
        await get(client, basic)
        (record,) = [r for r in caplog.records if r.name == ACCESS_LOGGER]
        assert (record.__dict__["route"], record.__dict__["status"]) == ("/api/public/v2/prompts/{name}", 200)

    async def test_versions_and_labels_are_cached_apart(self, client: httpx.AsyncClient, basic: dict[str, str]) -> None:
        await create(client, basic, name=NAME, prompt="one", labels=["production"])
        await create(client, basic, name=NAME, prompt="two", labels=["staging"])
        for _ in range(2):  # cold, then warm
            assert (await get(client, basic)).json()["prompt"] == "one"
            assert (await get(client, basic, label="production")).json()["prompt"] == "one"
            assert (await get(client, basic, label="staging")).json()["prompt"] == "two"
            assert (await get(client, basic, label="latest")).json()["prompt"] == "two"
            assert (await get(client, basic, version=1)).json()["prompt"] == "one"
            assert (await get(client, basic, version=2)).json()["prompt"] == "two"


class TestInvalidation:
    async def test_a_label_move_through_the_api_is_served_at_once(
        self, app: FastAPI, client: httpx.AsyncClient, basic: dict[str, str]
    ) -> None:
        await create(client, basic, name=NAME, prompt="one", labels=["production"])
        await create(client, basic, name=NAME, prompt="two")
        assert (await get(client, basic)).json()["prompt"] == "one"
        assert (await get(client, basic)).json()["prompt"] == "one"  # warm

        moved = await client.patch(f"{URL}/{NAME}/versions/2", json={"newLabels": ["production"]}, headers=basic)
        assert moved.status_code == 200, moved.text
        assert prompt_cache(app).body(key_for(NAME, None, "production")) is None
        after = (await get(client, basic)).json()
        assert (after["version"], after["prompt"]) == (2, "two")

    async def test_a_new_version_through_the_api_is_served_at_once(
        self, client: httpx.AsyncClient, basic: dict[str, str]
    ) -> None:
        await create(client, basic, name=NAME, prompt="one", labels=["production"])
        assert (await get(client, basic)).json()["prompt"] == "one"
        assert (await get(client, basic, label="latest")).json()["prompt"] == "one"
        await create(client, basic, name=NAME, prompt="two", labels=["production"])
        assert (await get(client, basic)).json()["prompt"] == "two"
        assert (await get(client, basic, label="latest")).json()["version"] == 2

    async def test_a_change_to_a_referenced_prompt_reaches_the_parents_cached_body(
        self, client: httpx.AsyncClient, basic: dict[str, str]
    ) -> None:
        await create(client, basic, name="body/base", prompt="old rules", labels=["production"])
        await create(
            client, basic, name=NAME, prompt="R: " + ref("body/base", label="production"), labels=["production"]
        )
        assert (await get(client, basic)).json()["prompt"] == "R: old rules"
        assert (await get(client, basic)).json()["prompt"] == "R: old rules"
        await create(client, basic, name="body/base", prompt="new rules", labels=["production"])
        assert (await get(client, basic)).json()["prompt"] == "R: new rules"

    async def test_deleting_a_version_drops_its_cached_body(
        self, client: httpx.AsyncClient, basic: dict[str, str]
    ) -> None:
        await create(client, basic, name=NAME, prompt="one")
        await create(client, basic, name=NAME, prompt="two")
        assert (await get(client, basic, label="latest")).json()["version"] == 2
        deleted = await client.delete(f"{URL}/{NAME}", params={"version": 2}, headers=basic)
        assert deleted.status_code == 204, deleted.text
        assert (await client.get(f"{URL}/{NAME}", params={"version": 2}, headers=basic)).status_code == 404
        assert (await get(client, basic, label="latest")).json()["version"] == 1

    def test_clearing_the_prompt_cache_drops_the_bodies(self) -> None:
        cache = PromptCache()
        key = key_for(NAME, None, "production")
        cache.put_body(key, b"{}", cache.generation)
        assert cache.body(key) == b"{}"
        cache.clear()
        assert cache.body(key) is None

    def test_a_body_read_before_a_clear_is_not_stored_after_it(self) -> None:
        cache = PromptCache()
        generation = cache.generation
        cache.clear()
        cache.put_body(key_for(NAME, None, "production"), b"{}", generation)
        assert cache.body(key_for(NAME, None, "production")) is None


class TestQueryParameters:
    async def test_version_and_label_together_are_400_cold_or_warm(
        self, client: httpx.AsyncClient, basic: dict[str, str]
    ) -> None:
        await create(client, basic, name=NAME, prompt="one", labels=["production"])
        for _ in range(2):
            response = await client.get(f"{URL}/{NAME}", params={"version": 1, "label": "production"}, headers=basic)
            assert response.status_code == 400
            assert response.json()["error"]["code"] == "bad_request"
            await get(client, basic, version=1)  # warms version 1 for the second round

    async def test_resolve_false_returns_the_raw_prompt_even_when_the_resolved_body_is_cached(
        self, client: httpx.AsyncClient, basic: dict[str, str]
    ) -> None:
        await create(client, basic, name="body/base", prompt="LEAF", labels=["production"])
        tag = ref("body/base", label="production")
        await create(client, basic, name=NAME, prompt=tag, labels=["production"])
        assert (await get(client, basic)).json()["prompt"] == "LEAF"
        assert (await get(client, basic)).json()["prompt"] == "LEAF"
        raw = (await get(client, basic, resolve="false")).json()
        assert (raw["prompt"], raw["resolutionGraph"]) == (tag, None)
        assert (await get(client, basic, resolve="false", version=1)).json()["prompt"] == tag
        assert (await get(client, basic)).json()["prompt"] == "LEAF"

    async def test_a_missing_prompt_is_404_and_caches_nothing(
        self, app: FastAPI, client: httpx.AsyncClient, basic: dict[str, str]
    ) -> None:
        missing = await client.get(f"{URL}/body/missing", headers=basic)
        assert missing.status_code == 404
        assert prompt_cache(app).body(key_for("body/missing", None, "production")) is None
        assert len(prompt_cache(app)) == 0
