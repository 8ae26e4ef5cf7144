"""The edge of every HTTP request, in ONE pure ASGI middleware: its id, the security headers, the access log and
the request metrics, and the last-resort error response.

One middleware rather than one per concern: each layer costs every request another coroutine and another wrapper
around every message it sends, and these four all wrap the same `http.response.start`.

- Request id: a well-formed `X-Request-ID` from the client is kept, otherwise one is made; it is echoed on the
  response, put in the request's `state` and in a context variable the log formatter reads.
- Security headers (kit/security.py) on every response, the last-resort 500 included; a route's own value wins.
- Access log and metrics: one line on the `twosigma.access` logger at INFO with the fields `request_id`, `user_id`
  (when the caller authenticated with a token), `method`, `route` (the route template, e.g.
  `/api/v1/courses/{course_id}`, never the raw path: ids and share tokens stay out of the logs and the metric labels
  stay few; kit/routing.py's routes note it), `status` and `duration_ms`. Requests that match no route are logged
  with route `<unmatched>`.
- A URL longer than `MAX_URL_BYTES` (kit/security.py) is 414 `uri_too_long` here, before routing.
- An exception that escapes every handler becomes the usual 500 in the error shape here, so that response too gets
  the security headers and is counted; the exception is logged once, with its traceback.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from twosigma.kit.handlers import error_response, unhandled_response
from twosigma.kit.logging import ACCESS_LOGGER
from twosigma.kit.metrics import HTTP_LATENCY, HTTP_REQUESTS
from twosigma.kit.middleware import request_id_for, request_id_var, request_state_var
from twosigma.kit.routing import ROUTE_STATE_KEY
from twosigma.kit.security import security_headers, uri_too_long_error, url_too_long

access_logger = logging.getLogger(ACCESS_LOGGER)

UNMATCHED = "<unmatched>"


def route_template(scope: Scope, literal_paths: frozenset[str] = frozenset()) -> str:
    """The template of the route that answered `scope`: the one a route of kit/routing.py noted in the request's
    state, or the path itself when it is one of the app's `literal_paths` (its own plain routes without parameters:
    /docs, /openapi.json); `<unmatched>` otherwise."""
    noted = (scope.get("state") or {}).get(ROUTE_STATE_KEY)
    if isinstance(noted, str):
        return noted
    path = scope["path"]
    return path if path in literal_paths else UNMATCHED


def uri_too_long() -> JSONResponse:
    error = uri_too_long_error()
    return error_response(error.status_code, error.error_code, error.message, error.details)


class EdgeMiddleware:
    def __init__(self, app: ASGIApp, *, hsts: bool, literal_paths: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.hsts = hsts
        self.literal_paths = literal_paths
        self._api_headers = security_headers("/", hsts=hsts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = request_id_for(scope)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        token = request_id_var.set(request_id)
        state_token = request_state_var.set(state)
        path = scope["path"]
        extra = self._api_headers if path.startswith("/api/") else security_headers(path, hsts=self.hsts)
        own = (b"x-request-id", request_id.encode("latin-1"))
        status = 500
        response_started = False

        async def send_at_the_edge(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = int(message["status"])
                response_started = True
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers.extend(pair for pair in extra if pair[0] not in present)
                headers = [pair for pair in headers if pair[0].lower() != b"x-request-id"]
                headers.append(own)
                message["headers"] = headers
            await send(message)

        try:
            if url_too_long(scope):
                await uri_too_long()(scope, receive, send_at_the_edge)
            else:
                await self.app(scope, receive, send_at_the_edge)
        except Exception as exc:
            if response_started:
                raise
            response = await unhandled_response(Request(scope), exc)
            await response(scope, receive, send_at_the_edge)
        finally:
            self._record(scope, status, time.perf_counter() - started)
            request_id_var.reset(token)
            request_state_var.reset(state_token)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        route = route_template(scope, self.literal_paths)
        method = scope["method"]
        HTTP_REQUESTS.labels(route, method, str(status)).inc()
        HTTP_LATENCY.labels(route, method).observe(seconds)
        state = scope.get("state") or {}
        fields: dict[str, Any] = {
            "request_id": state.get("request_id"),
            "method": method,
            "route": route,
            "status": status,
            "duration_ms": round(seconds * 1000, 1),
        }
        user_id = state.get("user_id")
        if user_id is not None:
            fields["user_id"] = user_id
        access_logger.info("%s %s %s", method, route, status, extra=fields)
