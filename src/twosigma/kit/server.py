"""The HTTP server's own refusals, in the app's error shape.

uvicorn refuses a request its parser cannot take before the app sees it, with a plain-text `400 Invalid HTTP request
received.` and none of the app's headers: with httptools (the default when installed) a URL over 65,535 bytes (the
limit of its URL parser) or a malformed request; with h11 a request head over 16 KiB (`h11_max_incomplete_event_size`)
or a malformed request. The app itself answers URLs over `MAX_URL_BYTES` (8 KiB, below both limits) with 414 in the
edge middleware; these protocol classes make the server's answer the same shape for what never reaches the app:
414 `uri_too_long` when the request line is over `MAX_URL_BYTES`, 400 `bad_request` otherwise, each with an
`X-Request-ID` (logged on the access logger with the status) and the API's security headers.

`twosigma serve` and the tests' live server select them with uvicorn's `http=` option (`HTTP_PROTOCOL`). Only the
one method uvicorn's protocols use to refuse a request (`send_400_response`) is replaced; parsing is uvicorn's.
"""

from __future__ import annotations

import json
import logging
import uuid

from uvicorn.protocols.http.h11_impl import H11Protocol

from twosigma.kit.errors import BadRequest, UriTooLong
from twosigma.kit.handlers import error_body
from twosigma.kit.logging import ACCESS_LOGGER
from twosigma.kit.observability import UNMATCHED
from twosigma.kit.security import MAX_URL_BYTES, security_headers, uri_too_long_error

access_logger = logging.getLogger(ACCESS_LOGGER)

_PHRASES = {400: b"Bad Request", 414: b"URI Too Long"}


def refusal(target_length: int, default_headers: list[tuple[bytes, bytes]]) -> bytes:
    """The whole HTTP/1.1 response (the connection closes after it) refusing a request whose target (URL) has
    `target_length` bytes so far."""
    error: BadRequest | UriTooLong
    if target_length > MAX_URL_BYTES:
        error = uri_too_long_error()
    else:
        error = BadRequest("The HTTP request is malformed.")
    request_id = uuid.uuid4().hex
    body = json.dumps(error_body(error.error_code, error.message, error.details)).encode()
    headers = [
        *default_headers,
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
        (b"x-request-id", request_id.encode()),
        # No HSTS: the protocol does not know the environment, and browsers keep it from the app's own responses.
        *security_headers("/", hsts=False),
    ]
    # The access line the edge middleware would have written, so the client's X-Request-ID finds it in the logs.
    access_logger.info(
        "%s %s",
        UNMATCHED,
        error.status_code,
        extra={"request_id": request_id, "route": UNMATCHED, "status": error.status_code},
    )
    head = b"HTTP/1.1 %d %s\r\n" % (error.status_code, _PHRASES[error.status_code])
    return head + b"".join(name + b": " + value + b"\r\n" for name, value in headers) + b"\r\n" + body


def _target_length(head: bytes) -> int:
    """The length of the request target in the head received so far (all of it when no line end came yet)."""
    request_line = head.split(b"\r\n", 1)[0]
    parts = request_line.split(b" ")
    return len(parts[1]) if len(parts) > 1 else 0


class EdgeH11Protocol(H11Protocol):
    def send_400_response(self, msg: str) -> None:
        received, _ = self.conn.trailing_data
        self.transport.write(refusal(_target_length(received), self.server_state.default_headers))
        self.transport.close()


HTTP_PROTOCOL = "twosigma.kit.server:EdgeH11Protocol"

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - httptools is a dependency; h11 is uvicorn's fallback without it
    pass
else:

    class EdgeHttpToolsProtocol(HttpToolsProtocol):
        def send_400_response(self, msg: str) -> None:
            # `url` is what the parser collected of the current request's target before it gave up (unset when the
            # bytes never began a request).
            self.transport.write(refusal(len(getattr(self, "url", b"")), self.server_state.default_headers))
            self.transport.close()

    HTTP_PROTOCOL = "twosigma.kit.server:EdgeHttpToolsProtocol"
