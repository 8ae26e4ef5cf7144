"""The embedding worker: drains `retrieval_embedding_jobs` (jobs/queue.py: FOR UPDATE SKIP LOCKED, lease, retries
with backoff) and writes the vectors of the items' chunks.

- No vector storage (a server without the `vector` extension): jobs are dropped; the index is full-text only.
- No embedding provider configured: jobs wait (a provider configured later embeds the backlog).
- A provider failure: the job goes back to PENDING after the backoff (30 s, 1 min, ... up to 8 attempts); the
  chunks stay searchable by full text meanwhile.
The provider is called outside any transaction: the claim and the write are short transactions of their own.
"""

from __future__ import annotations

import logging
from datetime import datetime

from twosigma.config import Settings
from twosigma.db.engine import Database
from twosigma.jobs import queue
from twosigma.jobs.runner import Queue
from twosigma.retrieval import repository as repo
from twosigma.retrieval.repository import EMBEDDING_JOBS
from twosigma.retrieval.services.providers import BATCH, EmbeddingConfig, EmbeddingFailed, embed, embedding_config
from twosigma.system_settings.effective import EffectiveSettings, get_effective_settings

logger = logging.getLogger(__name__)

QUEUE_NAME = "embeddings"
JOBS_PER_BATCH = 20


def chunk_input(title: str, body: str) -> str:
    return f"{title}\n\n{body}"


async def embed_batch(database: Database, settings: Settings, now: datetime) -> int:
    """Claim and handle one batch of due jobs; how many were handled (0: nothing due or nothing to do yet)."""
    async with database.sessionmaker() as session, session.begin():
        if not await repo.vector_storage(session):
            # Full-text only: nothing will ever use these jobs.
            await repo.delete_done_jobs(session)
            claimed = await queue.claim(session, EMBEDDING_JOBS, now, 1000)
            await repo.delete_jobs(session, [row.id for row in claimed])
            return len(claimed)
        effective = await get_effective_settings(session, settings)
    config = embedding_config(effective)
    if config is None:
        return 0
    async with database.sessionmaker() as session, session.begin():
        claimed = await queue.claim(session, EMBEDDING_JOBS, now, JOBS_PER_BATCH)
        items = await repo.job_items(session, [row.id for row in claimed])
        chunks = await repo.chunks_to_embed(session, sorted(set(items.values())), config.model)
    if not claimed:
        return 0
    attempts = {row.id: row.attempts for row in claimed}
    try:
        vectors = await _vectors(config, [(row.id, chunk_input(row.title, row.body)) for row in chunks], effective)
    except EmbeddingFailed as exc:
        logger.warning("embedding provider failed (%s); %d jobs retried later", exc, len(claimed))
        async with database.sessionmaker() as session, session.begin():
            for job_id, attempt in attempts.items():
                await queue.retry(session, EMBEDDING_JOBS, job_id, attempt, str(exc), now, permanent=False)
        return len(claimed)
    async with database.sessionmaker() as session, session.begin():
        await repo.store_vectors(session, config.model, vectors)
        for job_id, attempt in attempts.items():
            await queue.complete(session, EMBEDDING_JOBS, job_id, attempt)
        await repo.delete_done_jobs(session)
    dims = {len(vector) for vector in vectors.values()}
    for size in dims:
        # Its own transaction: CREATE INDEX takes a lock on the table; IF NOT EXISTS makes it a no-op once made.
        async with database.sessionmaker() as session, session.begin():
            await repo.ensure_hnsw_index(session, size)
    return len(claimed)


async def _vectors(
    config: EmbeddingConfig, inputs: list[tuple[int, str]], effective: EffectiveSettings
) -> dict[int, list[float]]:
    timeout = effective.llm_timeout_seconds
    vectors: dict[int, list[float]] = {}
    for start in range(0, len(inputs), BATCH):
        part = inputs[start : start + BATCH]
        for (chunk_id, _), vector in zip(part, await embed(config, [t for _, t in part], timeout), strict=True):
            vectors[chunk_id] = vector
    return vectors


def embedding_queue(settings: Settings) -> Queue:
    async def batch(database: Database, now: datetime) -> int:
        return await embed_batch(database, settings, now)

    return Queue(QUEUE_NAME, batch)
