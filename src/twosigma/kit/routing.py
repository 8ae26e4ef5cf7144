"""Routers and routes of the app, through FastAPI's public extension points only.

Every domain declares `router = APIRouter(...)` from here: FastAPI's own router with `route_class=APIRoute`, the
route class below (the public `route_class` argument, as FastAPI documents for custom routes). `include(app,
router, prefix=...)` includes a router straight into the app, once, and tells its routes where they live.

`APIRoute` notes the template of the route that answers a request (`/api/v1/courses/{course_id}`, never the raw
path) in the request's state (`scope["state"]["route"]`), where the access log and the request metrics read it
(kit/observability.py). It does so in `handle`, the public method a router calls on the route it chose, so every
answer of the route carries it: the endpoint's, an error raised by a dependency or by validation, and the 405 of a
path it has without the method.

Routers stay one level deep: a domain router includes no other router (each is included by app.py), so the
template of every route is its router's mount plus its own path, and every level FastAPI would match on the way is
gone.

`warm_up(app)` builds, at startup, what FastAPI and SQLAlchemy otherwise build on a route's first request (each
route's effective state, the mapper configuration), so the first requests after a start or a deploy are not slow.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter as FastAPIRouter
from fastapi import FastAPI
from fastapi.routing import APIRoute as FastAPIRoute
from sqlalchemy.orm import configure_mappers
from starlette.routing import NoMatchFound
from starlette.types import Receive, Scope, Send

ROUTE_STATE_KEY = "route"  # the request-state key that holds the answering route's template


class APIRoute(FastAPIRoute):
    """A FastAPI route that notes its full template in the request's state when it answers."""

    # Where the route's router is included (set by `include`; None before, read as "").
    mount: str | None = None

    @property
    def template(self) -> str:
        return (self.mount or "") + self.path_format

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope.setdefault("state", {})[ROUTE_STATE_KEY] = self.template
        await super().handle(scope, receive, send)


class APIRouter(FastAPIRouter):
    """FastAPI's router, its routes of the class above."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("route_class", APIRoute)
        super().__init__(**kwargs)


class RoutedTwice(RuntimeError):
    """A route object was included at two places: its template would be ambiguous. Build a second router."""


def include(app: FastAPI, router: FastAPIRouter, *, prefix: str = "", **options: Any) -> None:
    """Include `router` into `app` at `prefix` (FastAPI's `include_router`, its other `options` passed on), and
    note the mount on each of its routes for their template. A router includes no router of its own here: one
    level, so the mount is known."""
    for route in router.routes:
        if not isinstance(route, APIRoute):
            raise TypeError(
                f"{route!r} is not a twosigma.kit.routing.APIRoute: declare the router with kit.routing.APIRouter "
                "and include every router straight into the app"
            )
        if route.mount is not None and route.mount != prefix:
            raise RoutedTwice(f"{route.path} is included at {route.mount!r} and {prefix!r}")
        route.mount = prefix
    app.include_router(router, prefix=prefix, **options)


def warm_up(app: FastAPI) -> None:
    configure_mappers()
    # Looking up a name that no route has visits every route's effective state, building each one (a public call
    # whose side effect this relies on: tests/kit/test_pins.py checks that the first request finds it built).
    try:
        app.url_path_for("twosigma.warm-up: no route has this name")
    except NoMatchFound:
        pass
