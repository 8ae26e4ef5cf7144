"""Routing that skips whole routers: a request is only matched against routers that have a route for its path.

FastAPI (0.137 and later) keeps each `include_router` as a nested router and matches a request by walking every
route of every included router in order, without first checking the router's prefix: with ~150 routes a request to
a late router tried ~120 regular expressions first (a third of /users/me's CPU time in the bench), each costing
FastAPI several Python calls. `gate(router, mount)` wraps a domain router in one that answers "no match" at once
unless the request path matches one of its routes' full paths: one regular expression, the alternation of every
route's own path pattern (its path parameters' convertors included), run in C. The check is exactly "some route
here has this path" (methods aside), so routing is unchanged: a path that passes the gate is matched by FastAPI as
before, and one that fails it would have matched none of the router's routes.

A gate on literal prefixes alone (the part of each path before its first `{parameter}`) was the first version: it
let /users/me through the tenancy router (whose /users/{user_id} has the head /users/) to try all sixteen of its
routes twice before FastAPI moved on.

`warm_up(app)` builds FastAPI's per-route state (built lazily on a route's first request, ~0.5 s for all of them)
and SQLAlchemy's mapper configuration at startup, so the first requests after a start or a deploy are not slow.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from fastapi import APIRouter, FastAPI
from sqlalchemy.orm import configure_mappers
from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Match, NoMatchFound, compile_path
from starlette.types import Scope


def full_paths(routes: Iterable[BaseRoute], mount: str) -> set[str] | None:
    """Every route's full path template (`mount` + its path), or None when a route's path cannot be known (never
    gate)."""
    paths: set[str] = set()
    for route in routes:
        path = getattr(route, "path", None)
        if isinstance(path, str):
            paths.add(mount + path)
            continue
        # A router included in this one (FastAPI's private `_IncludedRouter`): recurse with its prefix.
        nested = getattr(route, "original_router", None)
        prefix = getattr(getattr(route, "include_context", None), "prefix", None)
        if not isinstance(nested, APIRouter) or not isinstance(prefix, str):
            return None
        inner = full_paths(nested.routes, mount + prefix)
        if inner is None:
            return None
        paths |= inner
    return paths


def literal_heads(paths: Iterable[str]) -> set[str]:
    """The literal head of each path template: the part before its first `{parameter}` (for reading, and tests)."""
    return {path.split("{", 1)[0] for path in paths}


_GROUP_NAME = re.compile(r"\(\?P<[^>]+>")


def paths_pattern(paths: Iterable[str]) -> re.Pattern[str]:
    """One regular expression matching exactly the paths that one of `paths` (Starlette templates) matches.

    Each template is compiled as Starlette compiles a route's path (convertors included), its named groups made
    anonymous (names repeat across templates), and the results are joined as alternatives."""
    bodies = []
    for path in sorted(paths):
        regex = compile_path(path)[0].pattern
        bodies.append(_GROUP_NAME.sub("(?:", regex.removeprefix("^").removesuffix("$")))
    return re.compile("^(?:" + "|".join(bodies) + ")$")


class GatedRouter(APIRouter):
    """Holds one included router's routes; matches nothing whose path matches none of `paths` (full path templates,
    the mount included; None: no gate).

    Its routes are fixed once gated (the paths are), so it also answers FastAPI's "has anything under you changed"
    question (`_get_routes_version`, asked at every level of every request and answered by walking every nested
    router) from the first answer instead of walking again: another sixth of /users/me's CPU time.
    """

    def __init__(self, paths: Iterable[str] | None) -> None:
        super().__init__()
        self.paths = tuple(sorted(paths)) if paths is not None else None
        self.heads = tuple(sorted(literal_heads(self.paths))) if self.paths is not None else None
        self.pattern = paths_pattern(self.paths) if self.paths else None
        self._frozen_version: int | None = None

    def _get_routes_version(self, seen: set[int] | None = None) -> int:
        if self._frozen_version is None:
            self._frozen_version = super()._get_routes_version(seen)
        return self._frozen_version

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if self.paths is not None and scope.get("type") in ("http", "websocket"):
            if self.pattern is None or self.pattern.match(get_route_path(scope)) is None:
                return Match.NONE, {}
        return super().matches(scope)


def gate(router: APIRouter, mount: str) -> GatedRouter:
    """`router`'s routes behind a gate, to be included at `mount` (the full prefix in front of them).

    The gated router holds `router`'s own route objects rather than including `router`: each route already carries
    everything `router` gave it when it was declared (prefix, tags, dependencies, responses), and every level of
    inclusion costs a request another full match of everything below it (FastAPI matches each level once to choose
    and again to dispatch). Include the result with `prefix=mount` (or at the place `mount` describes). The paths
    are read once, so add every route to `router` before gating it.
    """
    gated = GatedRouter(full_paths(router.routes, mount))
    gated.routes.extend(router.routes)
    return gated


def warm_up(app: FastAPI) -> None:
    configure_mappers()
    # Looking up a name that no route has visits every route's effective context, building each one.
    try:
        app.url_path_for("twosigma.warm-up: no route has this name")
    except NoMatchFound:
        pass
