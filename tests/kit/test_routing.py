"""Routing through public extension points (kit/routing.py): each route notes its full template for the access log,
routers are included straight into the app once, and every documented operation of the real app is routed and
logged by its template."""

from __future__ import annotations

import logging
import re
from typing import Any

import fastapi
import httpx
import pytest
from fastapi import FastAPI, Request

from twosigma.kit.handlers import install_error_handlers
from twosigma.kit.logging import ACCESS_LOGGER
from twosigma.kit.observability import UNMATCHED, EdgeMiddleware
from twosigma.kit.routing import ROUTE_STATE_KEY, APIRoute, APIRouter, RoutedTwice, include, warm_up

HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def _router() -> APIRouter:
    router = APIRouter(prefix="/things")

    @router.get("")
    async def listing(request: Request) -> dict[str, Any]:
        return {"route": request.state.route}

    @router.get("/{thing_id}")
    async def thing(thing_id: int, request: Request) -> dict[str, Any]:
        return {"thing": thing_id, "route": request.state.route}

    @router.get("/{thing_id}/parts/{part:path}")
    async def part(thing_id: int, part: str) -> dict[str, Any]:
        return {"thing": thing_id, "part": part}

    return router


def _app(router: APIRouter, prefix: str = "/api") -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    include(app, router, prefix=prefix)
    app.add_middleware(EdgeMiddleware, hsts=False)
    return app


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


@pytest.fixture
def access(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    return caplog


def logged_routes(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.__dict__["route"] for record in caplog.records if record.name == ACCESS_LOGGER]


def is_route_not_found(response: httpx.Response) -> bool:
    """The framework's 404 for a path no route has, as kit/handlers.py shapes it (a handler's 404 names what it did
    not find: 'Offering not found.', or a code of its own)."""
    if response.status_code != 404:
        return False
    error = response.json()["error"]
    return bool(error["code"] == "not_found" and error["message"] == "Not found.")


class TestTheRouteTemplate:
    def test_a_kit_router_makes_kit_routes(self) -> None:
        assert all(isinstance(route, APIRoute) for route in _router().routes)

    async def test_the_route_notes_its_full_template_in_the_request_state(self) -> None:
        async with _client(_app(_router())) as client:
            assert (await client.get("/api/things")).json() == {"route": "/api/things"}
            assert (await client.get("/api/things/7")).json() == {"thing": 7, "route": "/api/things/{thing_id}"}

    @pytest.mark.parametrize(
        ("method", "path", "status", "route"),
        [
            ("GET", "/api/things/7", 200, "/api/things/{thing_id}"),
            ("GET", "/api/things/7/parts/a/b", 200, "/api/things/{thing_id}/parts/{part}"),
            ("GET", "/api/things/x", 422, "/api/things/{thing_id}"),  # matched, then refused by validation
            ("DELETE", "/api/things/7", 405, "/api/things/{thing_id}"),  # the path is there, the method is not
            ("GET", "/api/elsewhere/7", 404, UNMATCHED),
            ("GET", "/things/7", 404, UNMATCHED),  # the route's own path without its mount
        ],
    )
    async def test_the_access_log_names_the_template_never_the_path(
        self, access: pytest.LogCaptureFixture, method: str, path: str, status: int, route: str
    ) -> None:
        async with _client(_app(_router())) as client:
            assert (await client.request(method, path)).status_code == status
        assert logged_routes(access) == [route]

    async def test_a_slash_redirect_is_unmatched(self, access: pytest.LogCaptureFixture) -> None:
        async with _client(_app(_router())) as client:
            assert (await client.get("/api/things/7/")).status_code == 307
        assert logged_routes(access) == [UNMATCHED]

    def test_the_state_key_is_the_one_the_edge_reads(self) -> None:
        assert ROUTE_STATE_KEY == "route"


class TestInclude:
    def test_including_the_same_router_at_the_same_place_again_is_allowed(self) -> None:
        # Every create_app includes the domains' module-level routers again (the tests build many apps).
        router = _router()
        _app(router)
        _app(router)
        assert {route.template for route in router.routes if isinstance(route, APIRoute)} == {
            "/api/things",
            "/api/things/{thing_id}",
            "/api/things/{thing_id}/parts/{part}",
        }

    def test_a_route_included_at_two_places_is_refused(self) -> None:
        router = _router()
        _app(router, "/api")
        with pytest.raises(RoutedTwice):
            _app(router, "/v2")

    def test_a_router_that_includes_a_router_is_refused(self) -> None:
        outer = APIRouter(prefix="/outer")
        outer.include_router(_router())
        with pytest.raises(TypeError, match="straight into the app"):
            _app(outer)

    def test_a_plain_fastapi_router_is_refused(self) -> None:
        plain = fastapi.APIRouter()

        @plain.get("/x")
        async def x() -> None:
            return None

        with pytest.raises(TypeError, match=r"kit\.routing\.APIRouter"):
            _app(plain)


def _operations(app: FastAPI) -> list[tuple[str, str, str]]:
    """(method, template, concrete path) of every documented operation; every path parameter is 1."""
    operations = []
    for template, item in app.openapi()["paths"].items():
        concrete = re.sub(r"\{[^}]+\}", "1", template)
        for method in HTTP_METHODS:
            if method in item:
                operations.append((method.upper(), template, concrete))
    return operations


class TestTheRealApp:
    async def test_the_not_found_check_tells_routing_from_handlers(self, client: httpx.AsyncClient) -> None:
        assert is_route_not_found(await client.get("/api/v1/no-such-route"))
        assert is_route_not_found(await client.get("/api/public/v2/no-such-route"))
        assert is_route_not_found(await client.get("/nowhere/at/all"))
        assert (await client.delete("/api/v1/health")).status_code == 405

    async def test_every_documented_operation_is_routed_and_logged_by_its_template(
        self, app: FastAPI, client: httpx.AsyncClient, access: pytest.LogCaptureFixture
    ) -> None:
        operations = _operations(app)
        assert len(operations) > 100  # the whole API, not an empty schema
        unrouted, mislogged = [], []
        for method, template, concrete in operations:
            access.clear()
            kwargs: dict[str, Any] = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
            response = await client.request(method, concrete, **kwargs)
            if response.status_code == 405 or is_route_not_found(response):
                unrouted.append((method, template, response.status_code, response.text[:200]))
            if logged_routes(access) != [template]:
                mislogged.append((method, template, logged_routes(access)))
        assert unrouted == []
        assert mislogged == []

    @pytest.mark.parametrize(
        ("path", "route"),
        [
            ("/health", "/health"),
            ("/api/v1/health", "/api/v1/health"),
            ("/docs", "/docs"),
            ("/docs/oauth2-redirect", "/docs/oauth2-redirect"),
            ("/openapi.json", "/openapi.json"),
            ("/metrics", "/metrics"),
            ("/docs/assets/swagger-ui.css", UNMATCHED),  # the static files' mount
        ],
    )
    async def test_the_routes_outside_the_schema_are_logged_by_their_path(
        self, client: httpx.AsyncClient, access: pytest.LogCaptureFixture, path: str, route: str
    ) -> None:
        await client.get(path)
        assert logged_routes(access) == [route]


@pytest.fixture
def handler_builds(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths of the routes whose request handler FastAPI builds (APIRoute.get_route_handler, its public
    hook), from here on."""
    built: list[str] = []
    build = APIRoute.get_route_handler

    def counting(self: APIRoute) -> Any:
        built.append(self.path)
        return build(self)

    monkeypatch.setattr(APIRoute, "get_route_handler", counting)
    return built


class TestWarmUp:
    async def test_warm_up_runs_twice_and_leaves_routing_as_it_was(self, fresh_app: FastAPI) -> None:
        warm_up(fresh_app)
        warm_up(fresh_app)
        async with _client(fresh_app) as client:
            assert (await client.get("/api/v1/health")).status_code == 200
            assert is_route_not_found(await client.get("/api/v1/no-such-route"))

    async def test_after_warm_up_a_first_request_builds_nothing(
        self, fresh_app: FastAPI, handler_builds: list[str]
    ) -> None:
        # FastAPI builds each included route's handler lazily, on the first request that walks it; warm_up builds
        # them all at startup. If a FastAPI release changes when it builds them, this says so.
        warm_up(fresh_app)
        assert len(handler_builds) > 100
        handler_builds.clear()
        async with _client(fresh_app) as client:
            assert (await client.get("/api/v1/feature-requests")).status_code == 401
        assert handler_builds == []
