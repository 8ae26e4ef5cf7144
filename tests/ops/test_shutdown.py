"""Graceful shutdown: `twosigma serve` gives in-flight requests time to finish, and a tutor stream that is still
running when the server gives up (uvicorn cancels the request's task) stores its partial reply as incomplete."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from tests.fakes import FakeAnthropic, Mode
from tests.fixtures.factories import access_token
from tests.fixtures.tutor import make_chat, make_lesson, sse_post_scope
from twosigma import cli
from twosigma.config import Settings, get_settings
from twosigma.db import bootstrap
from twosigma.enums import MessageRole
from twosigma.kit import logging
from twosigma.tutor.models import ChatMessage


class TestStreamsOnShutdown:
    async def test_a_stream_cancelled_by_shutdown_stores_its_partial_reply_as_incomplete(
        self, app: FastAPI, db: AsyncSession, settings: Settings, anthropic: FakeAnthropic
    ) -> None:
        lesson = await make_lesson(db)
        chat = await make_chat(db, lesson.student, content_item_id=lesson.item.id)
        anthropic.script(mode=Mode.SLOW, delay=0.3)
        body = json.dumps({"content": "A long answer, please"}).encode()
        two_deltas = asyncio.Event()
        sent: list[bytes] = []
        request_read = False
        never = asyncio.Event()

        async def receive() -> dict[str, Any]:
            nonlocal request_read
            if not request_read:
                request_read = True
                return {"type": "http.request", "body": body, "more_body": False}
            await never.wait()  # the client stays connected: only the server's shutdown ends this stream
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body":
                sent.append(message.get("body", b""))
                if b"".join(sent).count(b"event: delta") >= 2:
                    two_deltas.set()

        path = f"/api/v1/chat/sessions/{chat.id}/messages"
        # What uvicorn does when timeout_graceful_shutdown runs out: cancel the task serving the request.
        task = asyncio.create_task(app(sse_post_scope(path, access_token(settings, lesson.student)), receive, send))
        await asyncio.wait_for(two_deltas.wait(), timeout=30)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

        stmt = select(ChatMessage).where(ChatMessage.session_id == chat.id).order_by(ChatMessage.id)
        user, reply = (await db.scalars(stmt.execution_options(populate_existing=True))).all()
        assert user.role is MessageRole.USER
        assert user.content == "A long answer, please"
        assert reply.role is MessageRole.ASSISTANT
        assert reply.content.startswith("Hello from")
        assert reply.content != "Hello from the fake tutor."
        assert reply.meta["incomplete"] is True
        assert reply.meta["error"]["code"] == "client_disconnected"


class TestServeConfiguration:
    def test_serve_hands_uvicorn_the_graceful_shutdown_timeout_and_our_logging(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        captured: dict[str, Any] = {}

        class Target:
            url = "postgresql+asyncpg://nobody@127.0.0.1:1/none"

            def release(self) -> None:
                captured["released"] = True

        async def resolve(settings: Settings) -> Target:
            return Target()

        async def nothing(settings: Settings, url: str) -> None:
            return None

        import uvicorn

        monkeypatch.setattr(bootstrap, "resolve_database", resolve)
        monkeypatch.setattr(cli, "_prepare_database", nothing)
        monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: captured.update(kwargs))
        monkeypatch.setattr(logging, "configure_logging", lambda *args, **kwargs: captured.update(logging=True))
        monkeypatch.setenv("TWOSIGMA_SHUTDOWN_TIMEOUT_SECONDS", "7")
        # serve exports the URL it resolved; setenv first makes monkeypatch restore the variable's absence afterwards.
        monkeypatch.setenv("TWOSIGMA_DATABASE_URL", "")
        monkeypatch.delenv("TWOSIGMA_DATABASE_URL")
        get_settings.cache_clear()
        try:
            result = CliRunner().invoke(cli.app, ["serve", "--port", "8123"])
        finally:
            get_settings.cache_clear()
        assert result.exit_code == 0, result.output
        assert captured["timeout_graceful_shutdown"] == 7
        assert captured["log_config"] is None
        assert captured["access_log"] is False
        assert captured["released"] is True
        assert captured["logging"] is True
