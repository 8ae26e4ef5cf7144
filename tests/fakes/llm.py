"""Fake LLM APIs that speak the real wire formats, so the official SDKs run unchanged against them.

- `FakeAnthropic`: POST /v1/messages, JSON or SSE (message_start, content_block_start, ping, content_block_delta
  text_delta, content_block_stop, message_delta with usage and stop_reason, message_stop).
- `FakeOpenAI`: POST /v1/chat/completions, JSON or SSE (`data: {chat.completion.chunk}` lines, a final usage chunk
  when `stream_options.include_usage`, then `data: [DONE]`).
- `FakeBedrock`: POST /model/{id}/invoke and /model/{id}/invoke-with-response-stream, the Anthropic events wrapped
  in AWS event-stream `chunk` frames (base64 `bytes`), as Bedrock Runtime sends them. Signatures are not checked.

Behaviour is scripted per test with `fake.script(mode=Mode.SLOW, ...)`; `fake.reset()` restores the default.
Usage without pytest: `with FakeAnthropic() as fake: ... fake.url ...`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any
from urllib.parse import unquote

from tests.fakes.eventstream import chunk_event, exception_event
from tests.fakes.http import FakeHTTPServer, FakeResponse, RecordedRequest


class Mode(StrEnum):
    NORMAL = "normal"
    SLOW = "slow"  # `delay` seconds before every streamed event
    ERROR = "error"  # answer `status` (500 by default) with the provider's error body
    RATE_LIMITED = "rate_limited"  # 429 with Retry-After: `retry_after`
    CUT = "cut"  # close the connection after `cut_after` text deltas
    MALFORMED = "malformed"  # an event that is not valid JSON (or a frame with a bad checksum) after one delta
    STREAM_ERROR = "stream_error"  # the provider's in-stream error event after `cut_after` deltas


@dataclass(frozen=True)
class Script:
    mode: Mode = Mode.NORMAL
    deltas: tuple[str, ...] = ("Hello", " from", " the", " fake", " tutor.")
    delay: float = 0.05
    status: int = 500
    retry_after: str = "7"
    cut_after: int = 2
    input_tokens: int = 42
    output_tokens: int = 7
    stop_reason: str = "end_turn"

    @property
    def text(self) -> str:
        return "".join(self.deltas)


def _sse(event: str | None, data: dict[str, Any] | str) -> bytes:
    payload = data if isinstance(data, str) else json.dumps(data)
    prefix = f"event: {event}\n" if event else ""
    return f"{prefix}data: {payload}\n\n".encode()


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> FakeResponse:
    return FakeResponse(
        status=status,
        headers={"content-type": "application/json", **(headers or {})},
        body=json.dumps(body).encode(),
    )


class FakeLLMServer(FakeHTTPServer):
    def __init__(self) -> None:
        super().__init__()
        self.current = Script()

    def script(self, **changes: Any) -> Script:
        self.current = replace(self.current, **changes)
        return self.current

    def reset(self) -> None:
        self.current = Script()
        self.clear_requests()

    def stream(self, chunks: list[bytes], *, cut_at: int | None, content_type: str) -> FakeResponse:
        s = self.current
        return FakeResponse(
            headers={"content-type": content_type, "cache-control": "no-cache"},
            chunks=chunks,
            delay=s.delay if s.mode is Mode.SLOW else 0.0,
            cut_after=cut_at if s.mode is Mode.CUT else None,
        )


# -- Anthropic -------------------------------------------------------------------------------------------------


def anthropic_message(model: str, s: Script) -> dict[str, Any]:
    return {
        "id": "msg_fake_0001",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": s.text}],
        "stop_reason": s.stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": s.input_tokens, "output_tokens": s.output_tokens},
    }


def anthropic_events(model: str, s: Script) -> tuple[list[tuple[str, dict[str, Any] | str]], int]:
    """The stream's events, and the index just after the `cut_after`-th text delta."""
    start = anthropic_message(model, s) | {"content": [], "stop_reason": None}
    start["usage"] = {"input_tokens": s.input_tokens, "output_tokens": 1}
    events: list[tuple[str, dict[str, Any] | str]] = [
        ("message_start", {"type": "message_start", "message": start}),
        (
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        ),
        ("ping", {"type": "ping"}),
    ]
    cut_at = len(events)
    for n, text in enumerate(s.deltas, start=1):
        if s.mode is Mode.MALFORMED and n == 2:
            events.append(("content_block_delta", '{"type": "content_block_delta", "index": 0, "delta": {"ty'))
        if s.mode is Mode.STREAM_ERROR and n == s.cut_after + 1:
            error = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
            events.append(("error", error))
            return events, len(events)
        events.append(
            (
                "content_block_delta",
                {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}},
            )
        )
        if n == s.cut_after:
            cut_at = len(events)
    events += [
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": s.stop_reason, "stop_sequence": None},
                "usage": {"output_tokens": s.output_tokens},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
    return events, cut_at


_ANTHROPIC_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 429: "rate_limit_error"}


class FakeAnthropic(FakeLLMServer):
    def respond(self, request: RecordedRequest) -> FakeResponse:
        if request.method != "POST" or request.path != "/v1/messages":
            return _json(404, {"type": "error", "error": {"type": "not_found_error", "message": "Not found"}})
        s = self.current
        if s.mode in (Mode.ERROR, Mode.RATE_LIMITED):
            status = 429 if s.mode is Mode.RATE_LIMITED else s.status
            kind = _ANTHROPIC_ERROR_TYPES.get(status, "api_error")
            headers = {"retry-after": s.retry_after} if status == 429 else {}
            return _json(status, {"type": "error", "error": {"type": kind, "message": f"fake {kind}"}}, headers)
        body = request.json()
        model = body.get("model", "claude-fake")
        if not body.get("stream"):
            return _json(200, anthropic_message(model, s), {"request-id": "req_fake"})
        events, cut_at = anthropic_events(model, s)
        return self.stream([_sse(name, data) for name, data in events], cut_at=cut_at, content_type="text/event-stream")


# -- Bedrock ---------------------------------------------------------------------------------------------------


class FakeBedrock(FakeLLMServer):
    def respond(self, request: RecordedRequest) -> FakeResponse:
        parts = request.path.split("/")
        if request.method != "POST" or len(parts) != 4 or parts[1] != "model":
            return _json(404, {"message": "Unknown operation"})
        model, operation = unquote(parts[2]), parts[3]
        s = self.current
        if s.mode in (Mode.ERROR, Mode.RATE_LIMITED):
            status = 429 if s.mode is Mode.RATE_LIMITED else s.status
            kind = "ThrottlingException" if status == 429 else "InternalServerException"
            headers = {"x-amzn-errortype": f"{kind}:http://internal.amazon.com/coral/com.amazon.bedrock/"}
            if status == 429:
                headers["retry-after"] = s.retry_after
            return _json(status, {"message": f"fake {kind}"}, headers)
        if operation == "invoke":
            return _json(200, anthropic_message(model, s))
        if operation != "invoke-with-response-stream":
            return _json(404, {"message": "Unknown operation"})
        events, cut_at = anthropic_events(model, s)
        chunks: list[bytes] = []
        for name, data in events:
            if name == "ping":
                continue  # Bedrock does not forward pings
            if name == "error":
                chunks.append(exception_event("internalServerException", "fake mid-stream failure"))
            elif isinstance(data, str):
                chunks.append(chunk_event(data.encode())[:-4] + b"\x00\x00\x00\x00")  # bad message checksum
            else:
                chunks.append(chunk_event(data))
        cut_at -= 1  # the ping that was skipped came before the first delta
        return self.stream(chunks, cut_at=cut_at, content_type="application/vnd.amazon.eventstream")


# -- OpenAI ----------------------------------------------------------------------------------------------------

_OPENAI_FINISH = {"end_turn": "stop", "max_tokens": "length"}


MODERATION_CATEGORIES = ("harassment", "harassment/threatening", "hate", "self-harm", "self-harm/intent", "violence")


def openai_moderation(text: str) -> dict[str, Any]:
    """The moderation endpoint's answer: a category is flagged when the input holds `[moderate:<category>]`."""
    categories = {name: f"[moderate:{name}]" in text for name in MODERATION_CATEGORIES}
    return {
        "id": "modr-fake",
        "model": "omni-moderation-fake",
        "results": [
            {
                "flagged": any(categories.values()),
                "categories": categories,
                "category_scores": {name: 0.99 if hit else 0.01 for name, hit in categories.items()},
            }
        ],
    }


class FakeOpenAI(FakeLLMServer):
    def respond(self, request: RecordedRequest) -> FakeResponse:
        if request.method == "POST" and request.path == "/v1/moderations":
            if self.current.mode is Mode.ERROR:
                return _json(self.current.status, {"error": {"message": "fake", "type": "server_error"}})
            return _json(200, openai_moderation(str(request.json().get("input", ""))))
        if request.method != "POST" or request.path != "/v1/chat/completions":
            return _json(404, {"error": {"message": "Not found", "type": "invalid_request_error"}})
        s = self.current
        if s.mode in (Mode.ERROR, Mode.RATE_LIMITED):
            status = 429 if s.mode is Mode.RATE_LIMITED else s.status
            kind = "rate_limit_exceeded" if status == 429 else "server_error"
            headers = {"retry-after": s.retry_after} if status == 429 else {}
            error = {"error": {"message": f"fake {kind}", "type": kind, "param": None, "code": kind}}
            return _json(status, error, headers)
        body = request.json()
        model = body.get("model", "gpt-fake")
        created = int(time.time())
        finish = _OPENAI_FINISH.get(s.stop_reason, s.stop_reason)
        usage = {
            "prompt_tokens": s.input_tokens,
            "completion_tokens": s.output_tokens,
            "total_tokens": s.input_tokens + s.output_tokens,
        }
        if not body.get("stream"):
            message = {"role": "assistant", "content": s.text}
            return _json(
                200,
                {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion",
                    "created": created,
                    "model": model,
                    "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
                    "usage": usage,
                },
            )
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))

        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
            data: dict[str, Any] = {
                "id": "chatcmpl-fake",
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}],
            }
            if include_usage:
                data["usage"] = None
            return _sse(None, data)

        chunks = [chunk({"role": "assistant", "content": ""})]
        cut_at = len(chunks)
        for n, text in enumerate(s.deltas, start=1):
            if s.mode is Mode.MALFORMED and n == 2:
                chunks.append(b'data: {"id": "chatcmpl-fake", "choi\n\n')
            if s.mode is Mode.STREAM_ERROR and n == s.cut_after + 1:
                chunks.append(_sse(None, {"error": {"message": "fake mid-stream failure", "type": "server_error"}}))
                return self.stream(chunks, cut_at=len(chunks), content_type="text/event-stream")
            chunks.append(chunk({"content": text}))
            if n == s.cut_after:
                cut_at = len(chunks)
        chunks.append(chunk({}, finish))
        if include_usage:
            chunks.append(
                _sse(
                    None,
                    {
                        "id": "chatcmpl-fake",
                        "object": "chat.completion.chunk",
                        "created": created,
                        "model": model,
                        "choices": [],
                        "usage": usage,
                    },
                )
            )
        chunks.append(b"data: [DONE]\n\n")
        return self.stream(chunks, cut_at=cut_at, content_type="text/event-stream")
