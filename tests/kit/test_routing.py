"""Gated routing (kit/routing.py): a request skips the routers that have no route for its path, and every route of
the real app is still reached."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Match
from starlette.types import Scope

from twosigma.kit.handlers import install_error_handlers
from twosigma.kit.routing import GatedRouter, full_paths, gate, literal_heads, paths_pattern, warm_up

HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def _small_router() -> APIRouter:
    """/outer with a plain path, a parameterised one, an empty one, and /inner nested under /nest."""
    inner = APIRouter(prefix="/inner")

    @inner.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, Any]:
        return {"item": item_id}

    @inner.get("/list")
    async def listing() -> dict[str, Any]:
        return {"list": True}

    outer = APIRouter(prefix="/outer")

    @outer.get("")
    async def root() -> dict[str, Any]:
        return {"root": True}

    @outer.post("/plain")
    async def plain() -> dict[str, Any]:
        return {"plain": True}

    @outer.get("/things/{thing_id}/parts/{part}")
    async def parts(thing_id: int, part: str) -> dict[str, Any]:
        return {"thing": thing_id, "part": part}

    outer.include_router(inner, prefix="/nest")
    return outer


EXPECTED_PATHS = {
    "/api/outer",
    "/api/outer/plain",
    "/api/outer/things/{thing_id}/parts/{part}",
    "/api/outer/nest/inner/items/{item_id}",
    "/api/outer/nest/inner/list",
}
EXPECTED_HEADS = {
    "/api/outer",
    "/api/outer/plain",
    "/api/outer/things/",
    "/api/outer/nest/inner/items/",
    "/api/outer/nest/inner/list",
}


def _app_with(gated: APIRouter, mount: str = "/api") -> FastAPI:
    """`gated` included at `mount`, as app.py does: straight into the app, with the prefix."""
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(gated, prefix=mount)
    return app


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


def is_route_not_found(response: httpx.Response) -> bool:
    """The framework's 404 for a path no route has, as kit/handlers.py shapes it (a handler's 404 names what it did
    not find: 'Offering not found.', or a code of its own)."""
    if response.status_code != 404:
        return False
    error = response.json()["error"]
    return bool(error["code"] == "not_found" and error["message"] == "Not found.")


class TestPaths:
    def test_full_paths_are_the_templates_with_the_mount_nested_routers_included(self) -> None:
        assert full_paths(_small_router().routes, "/api") == EXPECTED_PATHS
        assert literal_heads(EXPECTED_PATHS) == EXPECTED_HEADS

    def test_the_mount_is_put_in_front_of_every_path(self) -> None:
        paths = full_paths(_small_router().routes, "")
        assert paths == {path.removeprefix("/api") for path in EXPECTED_PATHS}

    def test_a_route_whose_path_cannot_be_known_disables_the_gate(self) -> None:
        class Opaque(BaseRoute):
            def matches(self, scope: Scope) -> tuple[Match, Scope]:
                return Match.NONE, {}

        router = _small_router()
        router.routes.append(Opaque())
        assert full_paths(router.routes, "/api") is None
        gated = gate(router, "/api")
        assert gated.paths is None
        assert gated.pattern is None

    def test_the_gated_router_holds_the_routes_themselves_not_an_inclusion_of_them(self) -> None:
        # Every level of inclusion is matched once to choose and again to dispatch, so the gate adds none.
        router = _small_router()
        gated = gate(router, "/api")
        assert gated.routes == router.routes  # the same route objects, in the same order
        assert gated.routes is not router.routes

    def test_gate_keeps_the_paths_sorted_and_includes_the_router(self) -> None:
        router = _small_router()
        gated = gate(router, "/api")
        assert isinstance(gated, GatedRouter)
        assert gated.paths == tuple(sorted(EXPECTED_PATHS))
        assert gated.heads == tuple(sorted(EXPECTED_HEADS))
        assert full_paths(gated.routes, "/api") == EXPECTED_PATHS

    @pytest.mark.parametrize(
        ("path", "matched"),
        [
            ("/api/outer", True),
            ("/api/outer/plain", True),
            ("/api/outer/things/7/parts/wheel", True),
            ("/api/outer/things/x/parts/wheel", True),  # an untyped parameter takes any segment
            ("/api/outer/nest/inner/items/3", True),
            ("/api/outer/nest/inner/list", True),
            ("/api/outer/", False),
            ("/api/outerwear", False),
            ("/api/outer/plain/more", False),
            ("/api/outer/things/7/parts", False),
            ("/api/outer/things/7/parts/a/b", False),
            ("/api/outer/things//parts/wheel", False),
            ("/api/outer/nest/inner/items/", False),
            ("/elsewhere", False),
        ],
    )
    def test_the_pattern_matches_exactly_the_paths_of_the_templates(self, path: str, matched: bool) -> None:
        assert (paths_pattern(EXPECTED_PATHS).match(path) is not None) is matched

    def test_convertors_are_kept_and_repeated_parameter_names_do_not_clash(self) -> None:
        pattern = paths_pattern({"/a/{id:int}", "/b/{id}", "/c/{rest:path}", "/d/{id:int}/e/{name}"})
        assert pattern.match("/a/12")
        assert not pattern.match("/a/twelve")
        assert pattern.match("/b/twelve")
        assert pattern.match("/c/any/depth/at/all")
        assert pattern.match("/c/")
        assert pattern.match("/d/1/e/x")
        assert not pattern.match("/d/x/e/x")

    def test_special_characters_in_a_literal_path_are_literal(self) -> None:
        pattern = paths_pattern({"/v1.0/items"})
        assert pattern.match("/v1.0/items")
        assert not pattern.match("/v1x0/items")


class CountingRoute(APIRoute):
    """Counts how often routing asked this route whether it matches."""

    asked = 0

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        CountingRoute.asked += 1
        return super().matches(scope)


@pytest.fixture
def counting() -> Iterator[type[CountingRoute]]:
    CountingRoute.asked = 0
    yield CountingRoute
    CountingRoute.asked = 0


class TestGatedRouter:
    async def test_every_route_is_reached_through_the_gate_path_parameters_included(self) -> None:
        async with _client(_app_with(gate(_small_router(), "/api"))) as client:
            assert (await client.get("/api/outer")).json() == {"root": True}
            assert (await client.post("/api/outer/plain")).json() == {"plain": True}
            assert (await client.get("/api/outer/things/7/parts/wheel")).json() == {"thing": 7, "part": "wheel"}
            assert (await client.get("/api/outer/nest/inner/items/3")).json() == {"item": 3}
            assert (await client.get("/api/outer/nest/inner/list")).json() == {"list": True}
            assert (await client.get("/api/outer/things/x/parts/wheel")).status_code == 422  # matched, then validated
            assert is_route_not_found(await client.get("/api/elsewhere"))
            assert (await client.get("/api/outer/plain")).status_code == 405

    async def test_a_path_outside_the_heads_never_reaches_the_routers_routes(
        self, counting: type[CountingRoute]
    ) -> None:
        router = APIRouter(prefix="/counted", route_class=counting)

        @router.get("/{thing_id}")
        async def thing(thing_id: int) -> dict[str, int]:
            return {"thing": thing_id}

        other = APIRouter(prefix="/other")

        @other.get("/x")
        async def x() -> dict[str, str]:
            return {"x": "x"}

        app = FastAPI()
        install_error_handlers(app)
        app.include_router(gate(router, ""))
        app.include_router(other)
        async with _client(app) as client:
            assert (await client.get("/other/x")).status_code == 200
            assert counting.asked == 0  # the gated router was skipped as a whole
            assert is_route_not_found(await client.get("/nowhere"))
            assert counting.asked == 0
            assert (await client.get("/counted/5")).json() == {"thing": 5}
            assert counting.asked >= 1

    async def test_without_the_gate_the_same_route_is_asked(self, counting: type[CountingRoute]) -> None:
        # The control for the test above: an ungated router's routes are tried for any path.
        router = APIRouter(prefix="/counted", route_class=counting)

        @router.get("/{thing_id}")
        async def thing(thing_id: int) -> dict[str, int]:
            return {"thing": thing_id}

        app = FastAPI()
        install_error_handlers(app)
        app.include_router(router)
        async with _client(app) as client:
            assert is_route_not_found(await client.get("/nowhere"))
        assert counting.asked >= 1

    async def test_a_gate_rejects_what_lies_outside_its_paths_even_when_a_route_would_match(self) -> None:
        # Paths that deliberately miss the routes: the gate answers "no match" before FastAPI looks inside.
        wrong = GatedRouter(("/api/somewhere-else", "/api/outer/nest/inner/list/{x}"))
        wrong.include_router(_small_router())
        right = GatedRouter(tuple(EXPECTED_PATHS))
        right.include_router(_small_router())
        open_gate = GatedRouter(None)
        open_gate.include_router(_small_router())
        async with _client(_app_with(wrong)) as client:
            assert is_route_not_found(await client.get("/api/outer/nest/inner/list"))
            assert is_route_not_found(await client.get("/api/outer/things/1/parts/a"))
        for gated in (right, open_gate):
            async with _client(_app_with(gated)) as client:
                assert (await client.get("/api/outer/nest/inner/list")).json() == {"list": True}
                assert (await client.get("/api/outer/things/1/parts/a")).json() == {"thing": 1, "part": "a"}

    async def test_a_path_that_shares_a_routes_literal_head_but_not_its_shape_is_rejected_by_the_gate(
        self, counting: type[CountingRoute]
    ) -> None:
        # The tenancy router's /users/{user_id:int} once let /users/me through to try all its routes.
        router = APIRouter(prefix="/users", route_class=counting)

        @router.get("/{user_id}")
        async def user(user_id: int) -> dict[str, int]:
            return {"user": user_id}

        @router.get("/{user_id}/roles")
        async def roles(user_id: int) -> dict[str, int]:
            return {"roles": user_id}

        gated = gate(router, "")
        app = FastAPI()
        install_error_handlers(app)
        app.include_router(gated)
        async with _client(app) as client:
            assert is_route_not_found(await client.get("/users/5/elsewhere"))
            assert is_route_not_found(await client.get("/users/"))
            assert counting.asked == 0
            assert (await client.get("/users/5/roles")).json() == {"roles": 5}
            assert counting.asked >= 1

    async def test_slash_redirects_still_see_the_other_form_of_the_path(self) -> None:
        async with _client(_app_with(gate(_small_router(), "/api"))) as client:
            response = await client.get("/api/outer/nest/inner/list/")
            assert response.status_code == 307
            assert response.headers["location"].endswith("/api/outer/nest/inner/list")
            assert is_route_not_found(await client.get("/api/outerwear"))


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

    async def test_every_documented_operation_is_routed(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        operations = _operations(app)
        assert len(operations) > 100  # the whole API, not an empty schema
        unrouted = []
        for method, template, concrete in operations:
            kwargs: dict[str, Any] = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
            response = await client.request(method, concrete, **kwargs)
            if response.status_code == 405 or is_route_not_found(response):
                unrouted.append((method, template, response.status_code, response.text[:200]))
        assert unrouted == []

    async def test_every_domain_router_is_gated(self, app: FastAPI) -> None:
        gated: list[GatedRouter] = []

        def walk(routes: list[BaseRoute]) -> None:
            for route in routes:
                nested = getattr(route, "original_router", None)
                if isinstance(nested, GatedRouter):
                    gated.append(nested)
                if isinstance(nested, APIRouter):
                    walk(nested.routes)

        walk(app.router.routes)
        # The public prompt API and the seventeen domains, each included straight into the app under its prefix.
        assert len(gated) >= 18
        top = [getattr(route, "original_router", None) for route in app.router.routes]
        assert all(router in top for router in gated)  # no router in between that would be matched on its own
        assert all(router.paths and router.pattern for router in gated)
        assert all(path.startswith(("/api/v1/", "/api/public/v2/prompts")) for r in gated for path in r.paths or ())


class TestWarmUp:
    async def test_warm_up_runs_twice_and_leaves_routing_as_it_was(self, fresh_app: FastAPI) -> None:
        warm_up(fresh_app)
        warm_up(fresh_app)
        async with _client(fresh_app) as client:
            assert (await client.get("/api/v1/health")).status_code == 200
            assert is_route_not_found(await client.get("/api/v1/no-such-route"))

    async def test_warm_up_builds_the_route_state_of_every_route(self, fresh_app: FastAPI) -> None:
        # FastAPI's private, lazily built per-route state: each inclusion builds an effective context per route on
        # the first request that walks it. This reads it, so it may need updating with FastAPI.
        def declared(routes: list[BaseRoute]) -> int:
            count = 0
            for route in routes:
                nested = getattr(route, "original_router", None)
                if isinstance(nested, APIRouter):
                    count += declared(nested.routes)
                elif isinstance(route, APIRoute):
                    count += 1
            return count

        def built(candidates: list[Any]) -> int:
            count = 0
            for candidate in candidates:
                if isinstance(getattr(candidate, "original_router", None), APIRouter):
                    if getattr(candidate, "_effective_candidates_version", None) is None:
                        continue  # not built
                    count += built(candidate._effective_candidates)
                elif isinstance(getattr(candidate, "original_route", None), APIRoute):
                    count += 1
            return count

        top = [route for route in fresh_app.router.routes if hasattr(route, "original_router")]
        assert built(top) == 0  # a new app has built nothing yet
        warm_up(fresh_app)
        assert built(top) == declared(fresh_app.router.routes) > 100
