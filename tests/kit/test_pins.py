"""The frameworks' behaviour this code relies on, one test each, so a release that changes one fails here by name.

pyproject.toml pins FastAPI, Starlette, SQLAlchemy, uvicorn, pydantic (and its settings) and asyncpg to the minor
release the suite ran on. Before widening a pin, run this file on the new release; each test names the module that
relies on what it checks.
Elsewhere: the route template in the access log for every documented operation (tests/kit/test_routing.py), the
server's own 400/414 in the error shape (tests/security/test_server_edges.py), the cached prompt body equal to
what `response_model` sends (tests/prompts/test_body_cache.py), pydantic's error details in the one error shape
(tests/kit/test_validation_echo.py), asyncpg's LISTEN for cache invalidation (tests/kit/test_cache_invalidation.py)
and its SQLSTATEs (tests/reliability/test_database_error_mapping.py).
"""

from __future__ import annotations

import inspect
import logging
import tomllib
from importlib.metadata import version
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
from fastapi import FastAPI, Request
from packaging.requirements import Requirement
from packaging.version import Version
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import Receive, Scope, Send
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from twosigma.db.engine import make_sessionmaker
from twosigma.kit.cache import InvalidatedCache, invalidate
from twosigma.kit.logging import ACCESS_LOGGER
from twosigma.kit.routing import APIRoute, APIRouter, include
from twosigma.kit.server import HTTP_PROTOCOL, EdgeH11Protocol, EdgeHttpToolsProtocol

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
PINNED = ("fastapi", "starlette", "sqlalchemy", "uvicorn", "pydantic", "pydantic-settings", "asyncpg", "botocore")
# Test tools whose API the suite drives directly: selenium (tests/lti/test_lti_browser.py).
DEV_PINNED = ("selenium",)


def declared() -> dict[str, Requirement]:
    dependencies = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    return {(r := Requirement(line)).name.lower(): r for line in dependencies}


def declared_dev() -> dict[str, Requirement]:
    dependencies = tomllib.loads(PYPROJECT.read_text())["project"]["optional-dependencies"]["dev"]
    return {(r := Requirement(line)).name.lower(): r for line in dependencies}


class TestDevVersions:
    @pytest.mark.parametrize("name", DEV_PINNED)
    def test_the_installed_release_is_within_one_declared_minor_release(self, name: str) -> None:
        requirement = declared_dev()[name]
        assert requirement.specifier.contains(version(name), prereleases=True), (name, version(name))
        bounds = {spec.operator: Version(spec.version) for spec in requirement.specifier}
        low, high = bounds[">="], bounds["<"]
        assert (high.major, high.minor) == (low.major, low.minor + 1), (name, str(requirement.specifier))


class TestVersions:
    @pytest.mark.parametrize("name", PINNED)
    def test_the_installed_release_is_within_the_declared_range(self, name: str) -> None:
        requirement = declared()[name]
        assert requirement.specifier.contains(version(name), prereleases=True), (name, version(name))

    @pytest.mark.parametrize("name", PINNED)
    def test_the_declared_range_is_one_minor_release(self, name: str) -> None:
        bounds = {spec.operator: Version(spec.version) for spec in declared()[name].specifier}
        low, high = bounds[">="], bounds["<"]
        assert (high.major, high.minor) == (low.major, low.minor + 1), (name, str(declared()[name].specifier))


class NotingRoute(APIRoute):
    handled: ClassVar[list[str]] = []  # reset by the fixture

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        NotingRoute.handled.append(self.path)
        await super().handle(scope, receive, send)


@pytest.fixture
def noting_app() -> FastAPI:
    NotingRoute.handled = []
    router = APIRouter(prefix="/things", route_class=NotingRoute)

    @router.get("/{thing_id}")
    async def thing(thing_id: int, request: Request) -> dict[str, Any]:
        request.state.seen_by_route = True
        return {"thing": thing_id}

    app = FastAPI()
    include(app, router, prefix="/api")
    return app


def client_of(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


class TestFastAPIAndStarlette:
    async def test_fastapi_calls_handle_on_the_declared_route_object_that_answers_and_for_its_405(
        self, noting_app: FastAPI
    ) -> None:
        # kit/routing.py: APIRoute.handle notes the route's template; `include` stamps the mount on the router's own
        # route objects, so the route that answers must be one of them.
        async with client_of(noting_app) as client:
            assert (await client.get("/api/things/1")).status_code == 200
            assert (await client.get("/api/things/x")).status_code == 422
            assert (await client.delete("/api/things/1")).status_code == 405
            assert (await client.get("/api/nothing")).status_code == 404
        assert NotingRoute.handled == ["/things/{thing_id}"] * 3

    async def test_request_state_is_the_asgi_scopes_state_seen_by_an_outer_middleware(
        self, noting_app: FastAPI
    ) -> None:
        # kit/observability.py reads what routes (kit/routing.py) and authentication write to request.state from
        # scope["state"], in the middleware around the app.
        seen: dict[str, Any] = {}

        async def outer(scope: Scope, receive: Receive, send: Send) -> None:
            state = scope.setdefault("state", {})
            await noting_app(scope, receive, send)
            seen.update(state)

        async with client_of(outer) as client:
            assert (await client.get("/api/things/1")).status_code == 200
        assert seen["seen_by_route"] is True
        assert seen["route"] == "/api/things/{thing_id}"

    async def test_the_frameworks_errors_reach_the_error_handlers_in_the_error_shape(
        self, client: httpx.AsyncClient
    ) -> None:
        # kit/handlers.py: Starlette's 404 and 405 and FastAPI's request validation error are exceptions its handlers
        # turn into the error shape.
        missing = await client.get("/api/v1/no-such-route")
        assert (missing.status_code, missing.json()["error"]["code"]) == (404, "not_found")
        wrong_method = await client.delete("/api/v1/health")
        assert (wrong_method.status_code, wrong_method.json()["error"]["code"]) == (405, "method_not_allowed")
        assert wrong_method.headers["allow"] == "GET"
        invalid = await client.post("/api/v1/auth/login", json={})
        assert (invalid.status_code, invalid.json()["error"]["code"]) == (422, "validation_error")
        assert set(invalid.json()["error"]) == {"code", "message", "details"}

    async def test_the_body_guard_runs_before_routing_and_authentication_inside_the_edge(
        self, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
    ) -> None:
        # app.py: `add_middleware` wraps, the last added outermost (Starlette): the edge (request id, access log)
        # around the body guard, the body guard around routing.
        caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
        big = b"x" * 2_000_000
        for path in ("/api/v1/no-such-route", "/api/v1/feature-requests"):
            caplog.clear()
            response = await client.post(path, content=big, headers={"content-type": "application/json"})
            assert (response.status_code, response.json()["error"]["code"]) == (413, "payload_too_large")
            assert response.headers["x-request-id"]
            (record,) = [r for r in caplog.records if r.name == ACCESS_LOGGER]
            assert record.__dict__["status"] == 413


class TestUvicorn:
    @pytest.mark.parametrize(
        ("ours", "theirs"), [(EdgeH11Protocol, H11Protocol), (EdgeHttpToolsProtocol, HttpToolsProtocol)]
    )
    def test_the_protocols_refuse_through_the_method_kit_server_replaces(self, ours: type, theirs: type) -> None:
        # kit/server.py overrides send_400_response (uvicorn's one refusal path) and nothing else.
        assert list(inspect.signature(theirs.send_400_response).parameters) == ["self", "msg"]
        assert ours.send_400_response is not theirs.send_400_response
        assert [name for name in vars(ours) if not name.startswith("__")] == ["send_400_response"]

    def test_the_http_option_takes_the_protocol_by_import_string(self) -> None:
        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            raise AssertionError("not called")

        config = Config(app=app, http=HTTP_PROTOCOL, lifespan="off")
        config.load()
        assert config.http_protocol_class is EdgeHttpToolsProtocol


class Probe(InvalidatedCache[str, int]):
    payload = "pins-probe"  # no process registers it: at worst a listener empties its caches once


class TestSQLAlchemy:
    async def test_an_after_commit_listener_runs_at_commit_and_not_at_rollback(self, db_engine: AsyncEngine) -> None:
        # kit/cache.py `invalidate`: the writer's cache is emptied again once the session commits.
        committed, rolled_back = Probe(), Probe()
        async with make_sessionmaker(db_engine)() as session:
            await invalidate(session, Probe.payload, committed)
            assert committed.generation == 1
            await session.commit()
            assert committed.generation == 2
            await session.execute(text("SELECT 1"))
            await session.commit()
            assert committed.generation == 2  # once
        async with make_sessionmaker(db_engine)() as session:
            await invalidate(session, Probe.payload, rolled_back)
            await session.rollback()
            assert rolled_back.generation == 1


class TestBotocore:
    def test_sigv4_signs_a_bedrock_request_with_the_scope_and_headers_providers_rely_on(self) -> None:
        """retrieval/services/providers.py: `SigV4Auth(...).add_auth(AWSRequest)` adds the Authorization and
        X-Amz-Date headers for the `bedrock` service of the region."""
        from twosigma.retrieval.services.providers import EmbeddingConfig, signed_headers

        config = EmbeddingConfig(
            "bedrock",
            "amazon.titan-embed-text-v2:0",
            region="eu-west-1",
            access_key_id="AKIDEXAMPLE",
            secret_access_key="secret",
        )
        headers = signed_headers(config, "https://bedrock-runtime.eu-west-1.amazonaws.com/model/m/invoke", b"{}")
        assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
        assert "/eu-west-1/bedrock/aws4_request" in headers["Authorization"]
        assert "X-Amz-Date" in headers
