"""The cache front of the Langfuse prompt GET (prompts/front.py): a warm request is answered before FastAPI routes it,
with exactly the route's response; everything else reaches the route unchanged."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.factories import metrics_headers
from tests.fixtures.prompts import EVERY_SCOPE, make_api_key
from twosigma.api_keys.cache import VerifiedKey
from twosigma.api_keys.dependencies import get_api_key
from twosigma.config import Settings
from twosigma.kit.errors import Forbidden
from twosigma.kit.logging import ACCESS_LOGGER
from twosigma.prompts.dependencies import api_key_reader
from twosigma.prompts.front import ROUTE, _query

URL = "/api/public/v2/prompts"
NAME = "front/probe"


@pytest.fixture
async def basic(db: AsyncSession, settings: Settings) -> dict[str, str]:
    return (await make_api_key(db, settings, scopes=EVERY_SCOPE))[1]


@pytest.fixture
async def warm(client: httpx.AsyncClient, basic: dict[str, str]) -> dict[str, Any]:
    """A composed prompt, version 1 (production) and 2 (label `next`), each read once so both caches are warm."""
    base = {"name": "front/base", "prompt": "Be kind.", "labels": ["production"]}
    assert (await client.post(URL, json=base, headers=basic)).status_code == 201
    body = {
        "name": NAME,
        "prompt": "Rules: @@@langfusePrompt:name=front/base|label=production@@@ Hi {{name}}",
        "labels": ["production"],
        "config": {"temperature": 0.2},
    }
    assert (await client.post(URL, json=body, headers=basic)).status_code == 201
    body |= {"prompt": "Second {{name}}", "labels": ["next"]}
    assert (await client.post(URL, json=body, headers=basic)).status_code == 201
    for params in ({}, {"label": "next"}, {"version": 1}, {"version": 2}):
        assert (await client.get(f"{URL}/{NAME}", params=params, headers=basic)).status_code == 200
    return body


@pytest.fixture
def route_refuses(app: FastAPI) -> Iterator[None]:
    """From here on the route itself answers 403: a 200 can only have come from the front."""

    async def refuse() -> VerifiedKey:
        raise Forbidden("the route ran")

    # The GET route authenticates through api_key_reader (which calls get_api_key itself), the others through
    # get_api_key.
    for dependency in (get_api_key, api_key_reader):
        app.dependency_overrides[dependency] = refuse
    try:
        yield
    finally:
        for dependency in (get_api_key, api_key_reader):
            app.dependency_overrides.pop(dependency, None)


def comparable(response: httpx.Response) -> tuple[int, bytes, list[tuple[str, str]]]:
    headers = sorted((k, v) for k, v in response.headers.items() if k != "x-request-id")
    return response.status_code, response.content, headers


class TestTheFrontAnswersWarmRequests:
    @pytest.mark.parametrize(
        "query", ["", "?label=next", "?version=1", "?version=2", "?resolve=true", "?label=production&resolve=1"]
    )
    async def test_the_same_response_as_the_route(
        self, app: FastAPI, client: httpx.AsyncClient, basic: dict[str, str], warm: dict[str, Any], query: str
    ) -> None:
        # An extra parameter the route ignores makes the front step aside: the route's own answer.
        joiner = "&" if query else "?"
        by_route = await client.get(f"{URL}/{NAME}{query}{joiner}unrelated=1", headers=basic)
        by_front = await client.get(f"{URL}/{NAME}{query}", headers=basic)
        assert by_route.status_code == 200
        assert comparable(by_front) == comparable(by_route)
        assert by_front.headers["x-request-id"]

    async def test_it_answers_without_the_route(
        self, client: httpx.AsyncClient, basic: dict[str, str], warm: dict[str, Any], route_refuses: None
    ) -> None:
        response = await client.get(f"{URL}/{NAME}", params={"label": "next"}, headers=basic)
        assert response.status_code == 200
        assert response.json()["version"] == 2
        # The control: the same request with a parameter the front leaves to the route.
        assert (await client.get(f"{URL}/{NAME}?label=next&x=1", headers=basic)).status_code == 403

    async def test_the_access_log_and_metrics_name_the_route(
        self,
        client: httpx.AsyncClient,
        basic: dict[str, str],
        warm: dict[str, Any],
        route_refuses: None,
        caplog: pytest.LogCaptureFixture,
        settings: Settings,
    ) -> None:
        caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
        assert (await client.get(f"{URL}/{NAME}", headers=basic)).status_code == 200
        (record,) = [r for r in caplog.records if r.name == ACCESS_LOGGER]
        assert record.__dict__["route"] == ROUTE == "/api/public/v2/prompts/{name}"
        assert record.__dict__["status"] == 200
        metrics = (await client.get("/metrics", headers=metrics_headers(settings))).text
        assert f'route="{ROUTE}"' in metrics


class TestEverythingElseReachesTheRoute:
    @pytest.mark.parametrize(
        "query",
        [
            "?version=1&label=next",  # the route's 400
            "?version=0",
            "?version=01",
            "?version=abc",
            "?version=2147483648",
            "?version=%EF%BC%91",  # a full-width digit: int() would take it, the route's validation decides
            "?label=",
            "?label=next&label=production",
            "?resolve=false",
            "?resolve=yes",
            "?page=1",
        ],
    )
    async def test_unusual_queries(
        self, client: httpx.AsyncClient, basic: dict[str, str], warm: dict[str, Any], route_refuses: None, query: str
    ) -> None:
        assert (await client.get(f"{URL}/{NAME}{query}", headers=basic)).status_code == 403

    async def test_a_wrong_secret_an_unknown_key_and_no_credentials(
        self, client: httpx.AsyncClient, basic: dict[str, str], warm: dict[str, Any]
    ) -> None:
        wrong = {"Authorization": basic["Authorization"][:-4] + "AAA="}
        response = await client.get(f"{URL}/{NAME}", headers=wrong)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_api_key"
        assert (await client.get(f"{URL}/{NAME}", headers={"Authorization": "Basic bm86cGU="})).status_code == 401
        assert (await client.get(f"{URL}/{NAME}")).status_code == 401

    async def test_a_cold_prompt_and_an_empty_name(
        self, client: httpx.AsyncClient, basic: dict[str, str], warm: dict[str, Any], route_refuses: None
    ) -> None:
        assert (await client.get(f"{URL}/front/base", headers=basic)).status_code == 403  # never read: not cached
        assert (await client.get(f"{URL}/", headers=basic)).status_code == 403
        assert (await client.post(URL, json={}, headers=basic)).status_code == 403  # and other methods

    async def test_a_label_move_is_seen_at_once(
        self, client: httpx.AsyncClient, basic: dict[str, str], warm: dict[str, Any]
    ) -> None:
        assert (await client.get(f"{URL}/{NAME}", headers=basic)).json()["version"] == 1
        moved = await client.patch(f"{URL}/{NAME}/versions/2", json={"newLabels": ["production"]}, headers=basic)
        assert moved.status_code == 200
        assert (await client.get(f"{URL}/{NAME}", headers=basic)).json()["version"] == 2


class TestTheQueryParser:
    def test_what_it_takes(self) -> None:
        assert _query(b"") == (None, None)
        assert _query(b"version=7") == (7, None)
        assert _query(b"label=a%20b&resolve=TRUE") == (None, "a b")
        assert _query(b"version=2147483647") == (2147483647, None)

    @pytest.mark.parametrize(
        "raw", [b"version=-1", b"version=+1", b"version= 1", b"label=x&version=1", b"resolve=", b"other=1", b"version"]
    )
    def test_what_it_leaves_to_the_route(self, raw: bytes) -> None:
        assert _query(raw) is None
