"""One access-log line and the request metrics per HTTP request (pure ASGI middleware).

The line is written on the `twosigma.access` logger at INFO with the fields `request_id`, `user_id` (when the
caller authenticated with a token), `method`, `route` (the route template, e.g. `/api/v1/courses/{course_id}`,
never the raw path: ids and share tokens stay out of the logs and the metric labels stay few), `status` and
`duration_ms`. Requests that match no route are logged with route `<unmatched>`.

An exception that escapes every handler becomes the usual 500 in the error shape here, so that response too gets
the security headers and is counted; the exception is logged once, with its traceback.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from twosigma.kit.handlers import unhandled_response
from twosigma.kit.logging import ACCESS_LOGGER
from twosigma.kit.metrics import HTTP_LATENCY, HTTP_REQUESTS

access_logger = logging.getLogger(ACCESS_LOGGER)

UNMATCHED = "<unmatched>"


def route_template(scope: Scope) -> str:
    """The template of the route that served `scope`, once routing has run."""
    fastapi_scope: Any = scope.get("fastapi")
    if isinstance(fastapi_scope, dict):
        context = fastapi_scope.get("effective_route_context")
        path = getattr(context, "path_format", None) if context is not None else None
        if isinstance(path, str):
            return path
    endpoint = scope.get("endpoint")
    router = scope.get("router")
    if endpoint is not None and router is not None:
        # A plain Starlette route of the app itself (docs, openapi.json): its own path is the full template.
        for route in getattr(router, "routes", ()):
            if getattr(route, "endpoint", None) is endpoint and isinstance(getattr(route, "path_format", None), str):
                return str(route.path_format)
    return UNMATCHED


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_tracking(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = int(message["status"])
                response_started = True
            await send(message)

        try:
            await self.app(scope, receive, send_tracking)
        except Exception as exc:
            if response_started:
                raise
            response = await unhandled_response(Request(scope), exc)
            await response(scope, receive, send_tracking)
        finally:
            self._record(scope, status, time.perf_counter() - started)

    @staticmethod
    def _record(scope: Scope, status: int, seconds: float) -> None:
        route = route_template(scope)
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
