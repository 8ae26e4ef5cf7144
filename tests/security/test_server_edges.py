"""Against a real uvicorn server (the protocol `twosigma serve` runs): what the HTTP server itself refuses is
answered in the error shape with an X-Request-ID, like everything the app answers.

uvicorn + httptools refuses a URL over 65,535 bytes before the app sees it (its URL parser's limit), and any
malformed request, with a plain-text `400 Invalid HTTP request received.`; kit/server.py answers those instead."""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI

from tests.fixtures.live_server import serve
from twosigma.kit.security import MAX_URL_BYTES


@pytest.fixture
def server(app: FastAPI) -> Iterator[tuple[str, int]]:
    with serve(app) as base_url:
        host, port = base_url.removeprefix("http://").split(":")
        yield host, int(port)


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def error(self) -> dict[str, Any]:
        assert self.headers["content-type"] == "application/json"
        payload: dict[str, Any] = json.loads(self.body)
        assert set(payload) == {"error"}
        assert set(payload["error"]) == {"code", "message", "details"}
        error: dict[str, Any] = payload["error"]
        return error


def request(server: tuple[str, int], method: str, target: str, **kwargs: Any) -> Answer:
    connection = http.client.HTTPConnection(*server, timeout=10)
    try:
        connection.request(method, target, **kwargs)
        response = connection.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        connection.close()


class TestOverLongUrls:
    def test_a_100_kb_query_string_is_414_in_the_error_shape_with_a_request_id(self, server: tuple[str, int]) -> None:
        response = request(server, "GET", "/api/v1/courses?q=" + "a" * 100_000)
        assert response.status == 414
        assert response.headers["x-request-id"]
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.error() == {
            "code": "uri_too_long",
            "message": f"The URL is longer than {MAX_URL_BYTES} bytes.",
            "details": {"max_bytes": MAX_URL_BYTES},
        }

    def test_a_url_the_server_parses_but_over_the_limit_is_the_same_414(self, server: tuple[str, int]) -> None:
        response = request(server, "GET", "/api/v1/courses?q=" + "a" * 20_000)
        assert response.status == 414
        assert response.headers["x-request-id"]
        assert response.error()["code"] == "uri_too_long"


class TestMalformedRequests:
    def test_a_request_the_server_cannot_parse_is_400_in_the_error_shape(self, server: tuple[str, int]) -> None:
        with socket.create_connection(server, timeout=10) as sock:
            sock.sendall(b"NOT AN HTTP REQUEST\r\n\r\n")
            raw = b""
            while chunk := sock.recv(65536):
                raw += chunk
        head, _, body = raw.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 400 ")
        assert b"\r\nx-request-id: " in head.lower()
        assert json.loads(body)["error"]["code"] == "bad_request"


class TestChunkedBodies:
    def test_a_chunked_body_over_the_limit_is_413_in_the_error_shape(self, server: tuple[str, int]) -> None:
        def chunks() -> Iterator[bytes]:
            for _ in range(20):
                yield b"x" * 60_000

        response = request(server, "POST", "/api/v1/auth/login", body=chunks(), headers={"Content-Type": "text/plain"})
        assert response.status == 413
        assert response.headers["x-request-id"]
        assert response.error()["code"] == "payload_too_large"
