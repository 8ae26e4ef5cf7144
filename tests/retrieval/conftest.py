"""Retrieval tests: a course built through the content API (so every write goes through the index), the fake
LLM and embeddings servers, and the embedding worker drained on demand."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fakes import FakeAnthropic
from tests.fakes.embeddings import FakeEmbeddings
from tests.fixtures.content import Classroom, make_classroom, make_module, root_of
from tests.fixtures.factories import auth_headers
from tests.fixtures.llm_env import _clean_environment, _close_llm_clients, use_fake_anthropic  # noqa: F401
from tests.fixtures.tutor import API
from twosigma.config import Settings
from twosigma.content.models import Module
from twosigma.kit.state import state_of
from twosigma.retrieval.models import RetrievalChunk
from twosigma.retrieval.services.embedding import QUEUE_NAME

Headers = dict[str, str]


@pytest.fixture
def anthropic(fake_anthropic: FakeAnthropic, monkeypatch: pytest.MonkeyPatch) -> FakeAnthropic:
    return use_fake_anthropic(fake_anthropic, monkeypatch, api_key="sk-ant-retrieval-0123456789", model="claude-rt")


@pytest.fixture
def embeddings(fake_embeddings: FakeEmbeddings, monkeypatch: pytest.MonkeyPatch) -> FakeEmbeddings:
    """Embeddings configured: the fake OpenAI-compatible server, through the environment."""
    monkeypatch.setenv("TWOSIGMA_LLM_EMBEDDING_PROVIDER", "openai")
    monkeypatch.setenv("TWOSIGMA_LLM_EMBEDDING_MODEL", "fake-embed")
    monkeypatch.setenv("TWOSIGMA_LLM_EMBEDDING_BASE_URL", f"{fake_embeddings.url}/v1")
    return fake_embeddings


@dataclass
class Course:
    """A published course with a published module, written to through the content API by its instructor."""

    classroom: Classroom
    module: Module
    client: httpx.AsyncClient
    editor: Headers
    student: Headers
    items: dict[str, int] = field(default_factory=dict)

    async def add(self, title: str, body: str, *, module: Module | None = None, **fields: Any) -> int:
        payload = {
            "content_type_id": fields.pop("content_type_id", self.classroom.content_type.id),
            "title": title,
            "data_json": fields.pop("data_json", {"body": body}),
            **fields,
        }
        target = module or self.module
        response = await self.client.post(f"{API}/modules/{target.id}/content-items", json=payload, headers=self.editor)
        assert response.status_code == 201, response.text
        item_id: int = response.json()["id"]
        self.items[title] = item_id
        return item_id

    async def open_chat(self, item_id: int | None) -> int:
        body = {"content_item_id": item_id} if item_id is not None else {}
        response = await self.client.post(f"{API}/chat/sessions", json=body, headers=self.student)
        assert response.status_code == 201, response.text
        chat_id: int = response.json()["id"]
        return chat_id

    async def ask(self, chat_id: int, content: str) -> dict[str, Any]:
        response = await self.client.post(
            f"{API}/chat/sessions/{chat_id}/messages", json={"content": content}, headers=self.student
        )
        assert response.status_code == 200, response.text
        reply: dict[str, Any] = response.json()["assistant_message"]
        return reply


async def make_indexed_course(db: AsyncSession, client: httpx.AsyncClient, settings: Settings) -> Course:
    classroom = await make_classroom(db)
    module = await make_module(db, parent=await root_of(db, classroom.course), title="Unit 1")
    return Course(
        classroom=classroom,
        module=module,
        client=client,
        editor=auth_headers(settings, classroom.campus.instructor),
        student=auth_headers(settings, classroom.enrolled),
    )


@pytest.fixture
async def course(db: AsyncSession, client: httpx.AsyncClient, settings: Settings) -> Course:
    return await make_indexed_course(db, client, settings)


async def chunks_of(db: AsyncSession, item_id: int) -> list[RetrievalChunk]:
    stmt = select(RetrievalChunk).where(RetrievalChunk.content_item_id == item_id).order_by(RetrievalChunk.chunk_index)
    return list((await db.scalars(stmt.execution_options(populate_existing=True))).all())


async def drain_embeddings(app: FastAPI, at: datetime | None = None) -> int:
    state = state_of(app)
    state.jobs.clock = lambda: at or datetime.now(UTC)
    return await state.jobs.drain(state.database, QUEUE_NAME)
