"""Embeddings through a fake OpenAI-compatible /embeddings server on 127.0.0.1 (the real `openai` SDK calls it):
the worker writes the vectors, fused ranking reorders the full-text ranking, and a failing provider leaves full
text serving. Needs the `vector` extension (the embedded PostgreSQL has it; CI's PostgreSQL 15 does not)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fakes.embeddings import FakeEmbeddings
from tests.retrieval.conftest import Course, drain_embeddings
from twosigma.config import Settings
from twosigma.retrieval import repository
from twosigma.retrieval.models import EmbeddingJob
from twosigma.retrieval.services.search import retrieve
from twosigma.system_settings.effective import get_effective_settings

QUESTION = "Why does lava come out of volcanoes?"


@pytest.fixture(autouse=True)
async def _needs_vectors(db: AsyncSession) -> None:
    if not await repository.vector_storage(db):
        pytest.skip("this PostgreSQL has no `vector` extension: the index is full-text only")


async def three_items(course: Course, embeddings: FakeEmbeddings) -> tuple[int, int, int]:
    """X leads the full-text ranking and trails the vector one; Y is second in text and first in meaning."""
    embeddings.topics = {"lava": (1.0, 0.0, 0.0), "molten": (1.0, 0.0, 0.0), "crater": (0.5, 0.5, 0.0)}
    x = await course.add("Volcanoes everywhere", "Volcanoes come out of the ground; volcanoes, volcanoes, volcanoes.")
    y = await course.add("Inside the mountain", "Molten rock does come up and does come out.")
    z = await course.add("Crater shapes", "A crater forms out of an eruption.")
    return x, y, z


async def ranked(db: AsyncSession, settings: Settings, course: Course) -> tuple[list[int], str]:
    effective = await get_effective_settings(db, settings)
    found = await retrieve(db, effective, QUESTION, course_id=course.classroom.course.id, user_id=0)
    return [s.content_item_id for s in found.sources], found.ranking


class TestWorker:
    async def test_the_worker_writes_one_vector_per_chunk_and_an_hnsw_index_for_its_dimension(
        self, app: FastAPI, db: AsyncSession, course: Course, embeddings: FakeEmbeddings
    ) -> None:
        item = await course.add("Magma", "Molten rock under the crust.")
        assert embeddings.requests == []
        assert await drain_embeddings(app) == 1
        assert embeddings.inputs == ["Magma\n\nMolten rock under the crust."]
        row = (
            await db.execute(
                text(
                    "SELECT e.model, e.dims, e.embedding::text AS v FROM retrieval_embeddings e "
                    "JOIN retrieval_chunks c ON c.id = e.chunk_id WHERE c.content_item_id = :i"
                ),
                {"i": item},
            )
        ).one()
        assert (row.model, row.dims) == ("fake-embed", 3)
        assert row.v == "[0,0,0.2]"
        index = await db.scalar(
            text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_retrieval_embeddings_hnsw_3'")
        )
        assert index is not None
        assert "hnsw" in index
        assert await db.scalar(select(EmbeddingJob.id)) is None  # done jobs are removed

    async def test_a_provider_failure_is_retried_later_and_full_text_keeps_serving(
        self, app: FastAPI, db: AsyncSession, settings: Settings, course: Course, embeddings: FakeEmbeddings
    ) -> None:
        x, y, z = await three_items(course, embeddings)
        embeddings.fail = True
        now = datetime.now(UTC)
        assert await drain_embeddings(app, now) == 3
        job = (await db.scalars(select(EmbeddingJob).execution_options(populate_existing=True))).first()
        assert job is not None
        assert (job.status, job.attempts) == ("PENDING", 1)
        assert job.next_attempt_at > now
        assert job.last_error
        # Turn time: the query embedding fails too, and the full-text ranking answers.
        order, ranking = await ranked(db, settings, course)
        assert (order, ranking) == ([x, y, z], "fts")
        # The provider comes back: the retry (after its backoff) embeds them.
        embeddings.fail = False
        assert await drain_embeddings(app, now + timedelta(hours=1)) == 3
        assert await db.scalar(text("SELECT count(*) FROM retrieval_embeddings")) == 3


class TestFusedRanking:
    async def test_vectors_fused_by_reciprocal_rank_reorder_the_full_text_ranking(
        self,
        app: FastAPI,
        db: AsyncSession,
        settings: Settings,
        course: Course,
        embeddings: FakeEmbeddings,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        x, y, z = await three_items(course, embeddings)
        await drain_embeddings(app)
        assert await ranked(db, settings, course) == ([y, x, z], "fused")
        assert embeddings.inputs[-1] == QUESTION  # the query, embedded at turn time
        # Without a provider the same index ranks by full text alone.
        monkeypatch.delenv("TWOSIGMA_LLM_EMBEDDING_PROVIDER")
        assert await ranked(db, settings, course) == ([x, y, z], "fts")
