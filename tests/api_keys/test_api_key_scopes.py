"""API key scopes: chosen at creation, shown in the list, enforced on every route of /api/public/v2/prompts.

Raw HTTP, as any client (or attacker) would send it; the official SDK's view is in tests/prompts/test_langfuse_sdk.py.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import any_, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.prompts import make_api_key, make_prompt, platform_admin
from twosigma.api_keys.models import ApiKey
from twosigma.api_keys.scopes import Scope
from twosigma.config import Settings
from twosigma.kit.state import state_of
from twosigma.prompts.models import Prompt

KEYS = "/api/v1/api-keys"
URL = "/api/public/v2/prompts"
NAME = "scoped/tutor"

READ = (Scope.PROMPTS_READ,)
WRITE = (Scope.PROMPTS_WRITE,)
DEPLOY = (Scope.PROMPTS_WRITE, Scope.PROMPTS_DEPLOY)


async def key(db: AsyncSession, settings: Settings, scopes: tuple[Scope, ...]) -> dict[str, str]:
    return (await make_api_key(db, settings, scopes=scopes))[1]


@pytest.fixture
async def deployed(db: AsyncSession) -> None:
    """Version 1 holds production, version 2 only latest."""
    await make_prompt(db, NAME, "one", labels=["production"])
    await make_prompt(db, NAME, "two")


def assert_missing(response: httpx.Response, scope: Scope) -> None:
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["code"] == "insufficient_scope"
    assert error["details"]["required_scope"] == scope.value
    assert scope.value in error["message"]


async def production_version(db: AsyncSession) -> int | None:
    stmt = select(Prompt.version).where(Prompt.name == NAME, literal("production") == any_(Prompt.labels))
    version: int | None = await db.scalar(stmt.execution_options(populate_existing=True))
    return version


class TestCreatingKeysWithScopes:
    async def test_a_key_made_without_scopes_only_reads(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        response = await client.post(KEYS, json={"name": "reader"}, headers=await platform_admin(db, settings))
        assert response.status_code == 201, response.text
        assert response.json()["scopes"] == ["prompts:read"]

    async def test_the_chosen_scopes_are_in_the_creation_response_and_read_is_always_added(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        body = {"name": "writer", "scopes": ["prompts:write"]}
        response = await client.post(KEYS, json=body, headers=await platform_admin(db, settings))
        assert response.status_code == 201, response.text
        assert response.json()["scopes"] == ["prompts:read", "prompts:write"]

    async def test_deploy_brings_write_with_it(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        body = {"name": "deployer", "scopes": ["prompts:deploy", "prompts:deploy"]}
        response = await client.post(KEYS, json=body, headers=await platform_admin(db, settings))
        assert response.json()["scopes"] == ["prompts:read", "prompts:write", "prompts:deploy"]

    @pytest.mark.parametrize("scopes", [["prompts:admin"], ["PROMPTS:READ"], "prompts:read", [None], [""]])
    async def test_an_unknown_scope_is_422(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, scopes: Any
    ) -> None:
        body = {"name": "odd", "scopes": scopes}
        response = await client.post(KEYS, json=body, headers=await platform_admin(db, settings))
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == "validation_error"

    async def test_the_list_shows_each_keys_scopes(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        headers = await platform_admin(db, settings)
        made = {}
        for name, scopes in (("list-r", []), ("list-w", ["prompts:write"]), ("list-d", ["prompts:deploy"])):
            made[name] = (await client.post(KEYS, json={"name": name, "scopes": scopes}, headers=headers)).json()["id"]
        listed = {k["id"]: k["scopes"] for k in (await client.get(KEYS, headers=headers)).json()["items"]}
        assert listed[made["list-r"]] == ["prompts:read"]
        assert listed[made["list-w"]] == ["prompts:read", "prompts:write"]
        assert listed[made["list-d"]] == ["prompts:read", "prompts:write", "prompts:deploy"]


class TestReadOnlyKey:
    async def test_it_lists_and_gets(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, deployed: None
    ) -> None:
        basic = await key(db, settings, READ)
        listed = (await client.get(URL, params={"name": NAME}, headers=basic)).json()
        assert [item["versions"] for item in listed["data"]] == [[1, 2]]
        assert (await client.get(f"{URL}/{NAME}", headers=basic)).json()["prompt"] == "one"

    async def test_it_cannot_create(self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings) -> None:
        basic = await key(db, settings, READ)
        response = await client.post(URL, json={"name": "scoped/new", "prompt": "Hi"}, headers=basic)
        assert_missing(response, Scope.PROMPTS_WRITE)

    async def test_it_cannot_label(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, deployed: None
    ) -> None:
        basic = await key(db, settings, READ)
        response = await client.patch(f"{URL}/{NAME}/versions/2", json={"newLabels": ["beta"]}, headers=basic)
        assert_missing(response, Scope.PROMPTS_WRITE)

    async def test_it_cannot_delete(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, deployed: None
    ) -> None:
        basic = await key(db, settings, READ)
        response = await client.delete(f"{URL}/{NAME}", params={"version": 2}, headers=basic)
        assert_missing(response, Scope.PROMPTS_WRITE)


class TestWriteKey:
    async def test_it_creates_a_version_and_labels_it_anything_but_production(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, deployed: None
    ) -> None:
        basic = await key(db, settings, WRITE)
        created = await client.post(URL, json={"name": NAME, "prompt": "three", "labels": ["staging"]}, headers=basic)
        assert created.status_code == 201, created.text
        assert created.json()["version"] == 3
        patched = await client.patch(f"{URL}/{NAME}/versions/2", json={"newLabels": ["beta"]}, headers=basic)
        assert patched.status_code == 200, patched.text

    async def test_it_cannot_create_a_version_labelled_production(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, deployed: None
    ) -> None:
        basic = await key(db, settings, WRITE)
        body = {"name": NAME, "prompt": "hijacked", "labels": ["production"]}
        assert_missing(await client.post(URL, json=body, headers=basic), Scope.PROMPTS_DEPLOY)
        assert await production_version(db) == 1
        assert (await client.get(f"{URL}/{NAME}", params={"version": 3}, headers=basic)).status_code == 404

    async def test_it_cannot_move_production(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, deployed: None
    ) -> None:
        basic = await key(db, settings, WRITE)
        response = await client.patch(f"{URL}/{NAME}/versions/2", json={"newLabels": ["production"]}, headers=basic)
        assert_missing(response, Scope.PROMPTS_DEPLOY)
        assert await production_version(db) == 1

    async def test_it_cannot_remove_production_by_deleting_its_version(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, deployed: None
    ) -> None:
        basic = await key(db, settings, WRITE)
        one = await client.delete(f"{URL}/{NAME}", params={"version": 1}, headers=basic)
        assert_missing(one, Scope.PROMPTS_DEPLOY)
        by_label = await client.delete(f"{URL}/{NAME}", params={"label": "production"}, headers=basic)
        assert_missing(by_label, Scope.PROMPTS_DEPLOY)
        whole_name = await client.delete(f"{URL}/{NAME}", headers=basic)
        assert_missing(whole_name, Scope.PROMPTS_DEPLOY)
        assert await production_version(db) == 1

    async def test_it_may_delete_a_version_without_production(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, deployed: None
    ) -> None:
        basic = await key(db, settings, WRITE)
        response = await client.delete(f"{URL}/{NAME}", params={"version": 2}, headers=basic)
        assert response.status_code == 204, response.text


class TestDeployKey:
    async def test_it_creates_a_version_that_carries_production(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, deployed: None
    ) -> None:
        basic = await key(db, settings, DEPLOY)
        body = {"name": NAME, "prompt": "three", "labels": ["production"]}
        assert (await client.post(URL, json=body, headers=basic)).status_code == 201
        assert await production_version(db) == 3

    async def test_it_moves_production(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, deployed: None
    ) -> None:
        basic = await key(db, settings, DEPLOY)
        response = await client.patch(f"{URL}/{NAME}/versions/2", json={"newLabels": ["production"]}, headers=basic)
        assert response.status_code == 200, response.text
        assert await production_version(db) == 2

    async def test_it_deletes_the_version_holding_production(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, deployed: None
    ) -> None:
        basic = await key(db, settings, DEPLOY)
        assert (await client.delete(f"{URL}/{NAME}", params={"version": 1}, headers=basic)).status_code == 204
        assert await production_version(db) is None


class TestKeysWithoutRead:
    """Read is always granted at creation; a key whose stored scopes lack it (edited by hand) is refused too, even
    for a prompt whose response body is cached."""

    async def test_a_key_without_read_cannot_get_even_a_warm_prompt(
        self, app: FastAPI, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, deployed: None
    ) -> None:
        key_id, basic = await make_api_key(db, settings, scopes=WRITE)
        assert (await client.get(f"{URL}/{NAME}", headers=basic)).status_code == 200  # the prompt's body is cached
        stored = await db.get(ApiKey, key_id)
        assert stored is not None
        stored.scopes = ["prompts:write"]
        await db.flush()
        state_of(app).api_key_cache.clear()  # as in a process that has not seen the key yet
        assert_missing(await client.get(f"{URL}/{NAME}", headers=basic), Scope.PROMPTS_READ)
        assert_missing(await client.get(f"{URL}/{NAME}", headers=basic), Scope.PROMPTS_READ)  # now cached, still 403
        assert_missing(await client.get(URL, headers=basic), Scope.PROMPTS_READ)
