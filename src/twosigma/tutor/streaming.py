"""A turn's events as Server-Sent Events, or collected into one JSON answer.

While no event is ready for `KEEPALIVE_SECONDS` (a provider thinking before its first token, a slow store), the
SSE stream sends a comment line (`: keep-alive`), which EventSource clients ignore and which keeps proxies and load
balancers from closing an idle connection. The turn runs in a task of its own that feeds the stream through a
queue, so waiting for it can time out without disturbing it; when the client goes away the task is cancelled
and awaited, which stores the partial reply exactly as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import anyio
from fastapi.sse import EventSourceResponse, format_sse_event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import Send

from twosigma.kit.errors import AppError, Unavailable
from twosigma.llm.errors import LLMFailure
from twosigma.tutor.orchestrator import Delta, Finished, Turn, UserStored, run_turn
from twosigma.tutor.schemas import MessageRead, TurnRead

MESSAGE_CREATED = "message.created"
DELTA = "delta"
MESSAGE_COMPLETED = "message.completed"
ERROR = "error"
KEEPALIVE = b": keep-alive\n\n"
KEEPALIVE_SECONDS = 15.0


class TurnEventStream(EventSourceResponse):
    """An SSE response that always closes its generator when the response ends.

    Under ASGI 2.4 servers a disconnect surfaces as an error from `send`, which leaves the body iterator suspended;
    closing it here runs the turn's disconnect handling (store the partial reply) at once rather than at garbage
    collection. Under older servers Starlette cancels the stream instead, which the turn handles the same way.
    """

    async def stream_response(self, send: Send) -> None:
        try:
            await super().stream_response(send)
        finally:
            close = getattr(self.body_iterator, "aclose", None)
            if close is not None:
                await close()


def _event(name: str, data: Any) -> bytes:
    payload = data.model_dump_json() if isinstance(data, MessageRead) else json.dumps(data, ensure_ascii=False)
    return format_sse_event(event=name, data_str=payload)


def error_payload(error: AppError, assistant: MessageRead | None) -> dict[str, Any]:
    data: dict[str, Any] = {"code": error.error_code, "message": error.message}
    if "Retry-After" in error.headers:
        data["retry_after"] = int(error.headers["Retry-After"])
    if assistant is not None:
        data["assistant_message"] = assistant.model_dump(mode="json")
    return data


def _sse(event: UserStored | Delta | Finished) -> bytes:
    if isinstance(event, UserStored):
        return _event(MESSAGE_CREATED, event.message)
    if isinstance(event, Delta):
        return _event(DELTA, {"text": event.text})
    stored = event.message
    if event.error is None and stored is not None:
        return _event(MESSAGE_COMPLETED, stored)
    error = event.error or Unavailable("The reply could not be stored.", code="database_unavailable")
    return _event(ERROR, error_payload(error, stored))


async def sse_stream(turn: Turn, sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[bytes]:
    queue: asyncio.Queue[bytes | BaseException | None] = asyncio.Queue()

    async def produce() -> None:
        try:
            async with contextlib.aclosing(run_turn(turn, sessionmaker)) as events:
                async for event in events:
                    queue.put_nowait(_sse(event))
        except Exception as exc:  # not expected (run_turn reports failures as events): end the stream with it
            queue.put_nowait(exc)
            return
        queue.put_nowait(None)

    producer = asyncio.create_task(produce(), name=f"tutor-turn-{turn.chat_session_id}")
    try:
        while True:
            try:
                item = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
            except TimeoutError:
                yield KEEPALIVE
                continue
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        # The client went away (or the stream ended): stop the turn, which stores what it has, and wait for it.
        if not producer.done():
            producer.cancel()
        with anyio.CancelScope(shield=True), contextlib.suppress(asyncio.CancelledError):
            await producer


def event_stream_response(turn: Turn, sessionmaker: async_sessionmaker[AsyncSession]) -> TurnEventStream:
    return TurnEventStream(
        sse_stream(turn, sessionmaker), headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )


async def collect(turn: Turn, sessionmaker: async_sessionmaker[AsyncSession]) -> TurnRead:
    """The JSON answer. A failed call raises its mapped error (502/503) — after the user message and the partial
    reply have been stored; `details` names both."""
    finished: Finished | None = None
    async with contextlib.aclosing(run_turn(turn, sessionmaker)) as events:
        async for event in events:
            if isinstance(event, Finished):
                finished = event
    assert finished is not None  # run_turn always ends with Finished unless it raises
    if finished.error is not None:
        error = finished.error
        if not isinstance(error, LLMFailure):  # pragma: no cover - only a disconnect, which raises instead
            raise error
        error.details = {
            "user_message_id": turn.user_message.id,
            "assistant_message_id": finished.message.id if finished.message else None,
        }
        raise error
    assert finished.message is not None  # a missing reply always comes with an error
    return TurnRead(user_message=turn.user_message, assistant_message=finished.message)
