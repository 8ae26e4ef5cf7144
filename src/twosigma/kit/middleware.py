"""The request's id and state, shared by the edge middleware (kit/observability.py), the logs and the auth code."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar
from typing import Any

from starlette.types import Scope

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
# The request's ASGI `state` dict: code deep in a request (the auth dependency) notes facts for the access log.
request_state_var: ContextVar[dict[str, Any] | None] = ContextVar("request_state", default=None)

_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def request_id_for(scope: Scope) -> str:
    """A well-formed `X-Request-ID` from the client, or a new one."""
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            incoming: str = value.decode("latin-1")
            if _SAFE_ID.match(incoming):
                return incoming
            break
    return uuid.uuid4().hex
