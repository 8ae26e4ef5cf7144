"""Request guards and response headers (pure ASGI middleware).

- `BodyGuardMiddleware`: a request body larger than `max_body_bytes` is 413 `payload_too_large`, checked on the
  declared Content-Length before anything is read and again on the bytes actually received (chunked bodies, of any
  media type); a JSON body nested deeper than `max_json_depth` is 422 `json_too_deep`, refused before any parser
  recurses into it; a JSON body holding a value no column can store (NUL, an unpaired surrogate, NaN:
  kit/json_values.py) is 422 `validation_error` naming where. All answers are in the error shape.
- `url_too_long`: a URL (path and query string) longer than `MAX_URL_BYTES` is 414 `uri_too_long`, answered by the
  edge middleware (kit/observability.py); longer ones than the HTTP server parses at all get the same answer from
  the server's protocol class (kit/server.py).
- `security_headers` (added to every response by the edge middleware, kit/observability.py): nosniff, DENY
  framing, no referrer, HSTS in production, and a Content-Security-Policy: `default-src 'none'` on API
  responses; Swagger UI (its assets served by the app itself, kit/docs.py, plus an inline bootstrap script) gets a
  policy that allows exactly that and names no other host.
"""

from __future__ import annotations

import json
import re

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from twosigma.kit.errors import UriTooLong
from twosigma.kit.handlers import error_body
from twosigma.kit.json_values import unstorable_values

API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
DOCS_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; worker-src blob:; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'"
)
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect"})
HSTS = "max-age=63072000; includeSubDomains"

# Below every HTTP server's own limit on the request line (uvicorn + httptools: 65,535 bytes; h11: 16 KiB for the
# whole head; nginx: 8 KiB buffers), so the app, not the server, answers an over-long URL; far above any URL a
# client of this API builds (a search and a page).
MAX_URL_BYTES = 8192

_STRUCTURE = re.compile(rb'["\[\]{}]')


def json_depth_exceeds(body: bytes, limit: int) -> bool:
    """True when `body` (JSON text) opens more than `limit` nested arrays/objects. Brackets inside strings do not
    count. Works on malformed input too (the parser reports that afterwards)."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth = 0
    in_string = False
    for match in _STRUCTURE.finditer(body):
        char = match.group()
        if in_string:
            if char == b'"' and not _is_escaped(body, match.start()):
                in_string = False
        elif char == b'"':
            in_string = True
        elif char in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _is_escaped(body: bytes, index: int) -> bool:
    """A quote is escaped when an odd number of backslashes precede it."""
    count = 0
    index -= 1
    while index >= 0 and body[index] == 0x5C:
        count += 1
        index -= 1
    return count % 2 == 1


async def _send_error(send: Send, status: int, code: str, message: str, details: object = None) -> None:
    payload = json.dumps(error_body(code, message, details)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def _is_json(content_type: str | None) -> bool:
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


class BodyGuardMiddleware:
    """Every request body is read here, bounded by the size limit, before the app sees any of it.

    Reading it here rather than counting it as the app reads is what makes a chunked body over the limit a 413 for
    every media type: an error raised into the app's read (forms, text) is caught by FastAPI's body parsing and
    becomes its 400 "There was an error parsing the body". A body costs at most `max_body_bytes` of memory either way.
    """

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, max_json_depth: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_json_depth = max_json_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._too_large(send)
            return
        # The app then receives the same bytes, and later messages (a disconnect) come from the server as usual.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                # The client left before sending its body: let the app see that.
                await self.app(scope, _replay([], message, receive), send)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await self._too_large(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if _is_json(headers.get("content-type")) and json_depth_exceeds(body, self.max_json_depth):
            await _send_error(
                send,
                422,
                "json_too_deep",
                f"The JSON body is nested more than {self.max_json_depth} levels deep.",
                {"max_depth": self.max_json_depth},
            )
            return
        unstorable = unstorable_values(body)
        if unstorable:
            await _send_error(send, 422, "validation_error", "The request is not valid.", unstorable)
            return
        replay = {"type": "http.request", "body": body, "more_body": False}
        await self.app(scope, _replay([replay], None, receive), send)

    async def _too_large(self, send: Send) -> None:
        await _send_error(
            send,
            413,
            "payload_too_large",
            f"The request body is larger than {self.max_body_bytes} bytes.",
            {"max_bytes": self.max_body_bytes},
        )


def _replay(messages: list[Message], pending: Message | None, receive: Receive) -> Receive:
    queue = list(messages)
    if pending is not None:
        queue.append(pending)

    async def replay_receive() -> Message:
        if queue:
            return queue.pop(0)
        return await receive()

    return replay_receive


def uri_too_long_error() -> UriTooLong:
    """The 414 for a URL over `MAX_URL_BYTES`, whether the app (the edge middleware) or the server refuses it."""
    return UriTooLong(f"The URL is longer than {MAX_URL_BYTES} bytes.", details={"max_bytes": MAX_URL_BYTES})


def url_too_long(scope: Scope) -> bool:
    raw_path = scope.get("raw_path")
    path_bytes = len(raw_path) if isinstance(raw_path, bytes) else len(scope["path"].encode("utf-8"))
    return path_bytes + len(scope.get("query_string", b"")) > MAX_URL_BYTES


def security_headers(path: str, *, hsts: bool) -> tuple[tuple[bytes, bytes], ...]:
    """The headers every response carries (a route's own value for one of them wins), as raw ASGI pairs."""
    pairs = [
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"no-referrer"),
        (b"content-security-policy", (DOCS_CSP if path in DOCS_PATHS else API_CSP).encode()),
        (b"cross-origin-opener-policy", b"same-origin"),
    ]
    if hsts:
        pairs.append((b"strict-transport-security", HSTS.encode()))
    return tuple(pairs)
