"""LLM endpoints that fail the hard ways: a port nobody listens on, one that accepts and never answers, and a fake
Anthropic API that streams a few deltas and then goes silent (a read timeout in the middle of the answer)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from contextlib import contextmanager

from tests.fakes import FakeAnthropic, Mode
from tests.fakes.http import FakeResponse, RecordedRequest
from tests.fakes.llm import _sse, anthropic_events


@contextmanager
def refusing_port() -> Iterator[str]:
    """A loopback URL whose port was just freed: connections are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    yield f"http://127.0.0.1:{port}"


@contextmanager
def silent_port() -> Iterator[str]:
    """A listening socket that never accepts: the kernel completes the handshake, nobody ever answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


class StallingAnthropic(FakeAnthropic):
    """Streams the events up to the `cut_after`-th delta, then holds the connection open, silent, for `stall`
    seconds (longer than the client's timeout) before dropping it."""

    stall = 3.0

    def respond(self, request: RecordedRequest) -> FakeResponse:
        if self.current.mode is not Mode.SLOW:
            return super().respond(request)
        events, cut_at = anthropic_events(request.json().get("model", "claude-fake"), self.current)
        chunks = [_sse(name, data) for name, data in events]
        return FakeResponse(headers={"content-type": "text/event-stream"}, chunks=chunks, cut_after=cut_at)

    async def _write_response(self, writer: asyncio.StreamWriter, response: FakeResponse) -> bool:  # type: ignore[override]
        if response.cut_after is None or self.current.mode is not Mode.SLOW:
            return await FakeAnthropic._write_response(writer, response)
        # The head and the first chunks, by hand: the base writer would end the body or cut it at once.
        headers = {"server": "twosigma-fake", **response.headers, "transfer-encoding": "chunked"}
        head = "HTTP/1.1 200 OK\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        writer.write(head.encode("latin-1") + b"\r\n")
        for chunk in list(response.chunks or [])[: response.cut_after]:
            writer.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        await writer.drain()
        await asyncio.sleep(self.stall)
        writer.transport.abort()
        return False
