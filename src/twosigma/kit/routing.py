"""Routing that skips whole routers: a request is only matched against routers whose paths could be its own.

FastAPI (0.137 and later) keeps each `include_router` as a nested router and matches a request by walking every
route of every included router in order, without first checking the router's prefix: with ~150 routes a request to
a late router tried ~120 regular expressions first (a third of /users/me's CPU time in the bench). `gate(router,
mount)` wraps a domain router in one that answers "no match" at once unless the request path starts with one of
the literal heads of its routes (the part of each full path before its first `{parameter}`). The check is only a
necessary condition, so routing is unchanged: a path that passes the gate is matched by FastAPI as before.

`warm_up(app)` builds FastAPI's per-route state (built lazily on a route's first request, ~0.5 s for all of them)
and SQLAlchemy's mapper configuration at startup, so the first requests after a start or a deploy are not slow.
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import APIRouter, FastAPI
from sqlalchemy.orm import configure_mappers
from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import Scope


def literal_heads(routes: Iterable[BaseRoute], mount: str) -> set[str] | None:
    """The literal head of every route's full path, or None when a route's path cannot be known (never gate)."""
    heads: set[str] = set()
    for route in routes:
        path = getattr(route, "path", None)
        if isinstance(path, str):
            heads.add(mount + path.split("{", 1)[0])
            continue
        # A router included in this one (FastAPI's private `_IncludedRouter`): recurse with its prefix.
        nested = getattr(route, "original_router", None)
        prefix = getattr(getattr(route, "include_context", None), "prefix", None)
        if not isinstance(nested, APIRouter) or not isinstance(prefix, str):
            return None
        inner = literal_heads(nested.routes, mount + prefix)
        if inner is None:
            return None
        heads |= inner
    return heads


class GatedRouter(APIRouter):
    """Holds one included router; matches nothing whose path starts with none of `heads`.

    Its routes are fixed once gated (the heads are), so it also answers FastAPI's "has anything under you changed"
    question (`_get_routes_version`, asked at every level of every request and answered by walking every nested
    router) from the first answer instead of walking again: another sixth of /users/me's CPU time.
    """

    def __init__(self, heads: tuple[str, ...] | None) -> None:
        super().__init__()
        self.heads = heads
        self._frozen_version: int | None = None

    def _get_routes_version(self, seen: set[int] | None = None) -> int:
        if self._frozen_version is None:
            self._frozen_version = super()._get_routes_version(seen)
        return self._frozen_version

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if self.heads is not None and scope.get("type") in ("http", "websocket"):
            if not get_route_path(scope).startswith(self.heads):
                return Match.NONE, {}
        return super().matches(scope)


def gate(router: APIRouter, mount: str) -> GatedRouter:
    """`router`'s routes behind a gate, to be included at `mount` (the full prefix in front of them).

    The gated router holds `router`'s own route objects rather than including `router`: each route already carries
    everything `router` gave it when it was declared (prefix, tags, dependencies, responses), and every level of
    inclusion costs a request another full match of everything below it (FastAPI matches each level once to choose
    and again to dispatch). Include the result with `prefix=mount` (or at the place `mount` describes). The heads
    are computed once, so add every route to `router` before gating it.
    """
    heads = literal_heads(router.routes, mount)
    gated = GatedRouter(tuple(sorted(heads)) if heads else None)
    gated.routes.extend(router.routes)
    return gated


def warm_up(app: FastAPI) -> None:
    configure_mappers()
    # Looking up a name that no route has visits every route's effective context, building each one.
    try:
        app.url_path_for("twosigma.warm-up: no route has this name")
    except NoMatchFound:
        pass
