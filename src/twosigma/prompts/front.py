"""The cache front of the Langfuse prompt GET: a warm request answered before FastAPI routes it.

`GET /api/public/v2/prompts/{name}` is what every Langfuse SDK calls for every prompt it uses, so it is the API's
hottest path, and a warm one needs nothing but two process caches: the verified API key (api_keys/cache.py) and the
prompt's serialized response body (prompts/cache.py). Routing, dependency resolution and parameter validation then
cost most of the request. This middleware answers such a request from those caches with the bytes the route itself
would send (the route put them there); anything it is not sure of goes to the route unchanged: a key or body not
cached, a key whose use is due to be recorded, a wrong secret, a key without the `prompts:read` scope (the route
answers its 403), any query parameter other than one `version` (plain
digits in range) or one `label` and `resolve=true`, an empty name. So every error, and every answer that needs
the database, still comes from the route. It sits inside the edge middleware: request id, security headers,
access log and metrics apply as to any response.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send

from twosigma.api_keys import service as api_keys
from twosigma.api_keys.cache import key_cache_of
from twosigma.api_keys.credentials import basic_credentials
from twosigma.authz.scopes import may_read_prompts
from twosigma.kit.errors import AppError
from twosigma.prompts.cache import prompt_cache_of
from twosigma.prompts.queries import cached_prompt_body

PREFIX = "/api/public/v2/prompts/"
ROUTE = "/api/public/v2/prompts/{name}"  # the route's template, for the access log and metrics
_MAX_VERSION = 2_147_483_647
_TRUE = ("true", "1")


def _query(raw: bytes) -> tuple[int | None, str | None] | None:
    """(version, label) when the query string is one the front may answer; None to leave it to the route."""
    if not raw:
        return None, None
    version: int | None = None
    label: str | None = None
    seen: set[str] = set()
    for key, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
        if key in seen:
            return None
        seen.add(key)
        if key == "version":
            if not value.isascii() or not value.isdigit() or value[0] == "0" or len(value) > 10:
                return None
            version = int(value)
            if version > _MAX_VERSION:
                return None
        elif key == "label":
            if not value:
                return None
            label = value
        elif key != "resolve" or value.lower() not in _TRUE:
            return None
    if version is not None and label is not None:
        return None
    return version, label


class PromptCacheFront:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and scope["path"].startswith(PREFIX):
            body = self._cached(scope)
            if body is not None:
                scope.setdefault("state", {})["route"] = ROUTE
                await send(
                    {
                        "type": "http.response.start",
                        "status": 200,
                        "headers": [
                            (b"content-length", str(len(body)).encode()),
                            (b"content-type", b"application/json"),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)

    @staticmethod
    def _cached(scope: Scope) -> bytes | None:
        name = scope["path"][len(PREFIX) :]
        if not name or scope.get("root_path"):
            return None
        query = _query(scope.get("query_string", b""))
        if query is None:
            return None
        header = None
        for key, value in scope["headers"]:
            if key == b"authorization":
                header = value.decode("latin-1")
                break
        if header is None:
            return None
        state: Any = scope["app"].state
        try:
            public_key, secret_key = basic_credentials(header)
            key = api_keys.authenticate_cached(state.settings, public_key, secret_key, cache=key_cache_of(state))
        except AppError:
            return None  # the route answers the 401
        if key is None or not may_read_prompts(key.scopes):
            return None
        version, label = query
        return cached_prompt_body(prompt_cache_of(state), name, version=version, label=label)
