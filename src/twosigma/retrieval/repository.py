"""Every query of the course index.

The index is a read model of the content domain: it reads `content_items`, `modules`, `content_types`, `courses`
and the enrolment tables to decide what is published and who may read it, and writes only its own tables
(`retrieval_chunks`, `retrieval_embedding_jobs`, `retrieval_embeddings`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Row, cast, delete, func, insert, literal, literal_column, select, text, update
from sqlalchemy.dialects.postgresql import REGCONFIG
from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.jobs.queue import JobTable
from twosigma.retrieval.models import EmbeddingJob, RetrievalChunk

EMBEDDING_JOBS = JobTable(
    EmbeddingJob.__table__,  # type: ignore[arg-type]
    pending="PENDING",
    running="RUNNING",
    done="DONE",
    failed="FAILED",
    max_attempts=8,
    # Generous next to a batch's provider calls (each up to llm.timeout_seconds): a lease runs out only when the
    # worker is gone.
    lease=timedelta(minutes=10),
    # Embedding an item again writes the same vectors: a claim whose worker vanished is simply taken up again.
    reclaim_expired=True,
)

# --- What is published -----------------------------------------------------------------------------------------

# Items (of the given ids) whose module and every ancestor module are published.
_PUBLISHED_ITEMS_BY_ID = text(
    """
    WITH RECURSIVE anc AS (
        SELECT i.id AS item_id, m.parent_module_id, m.is_published
        FROM content_items i JOIN modules m ON m.id = i.module_id
        WHERE i.id = ANY(:ids)
        UNION ALL
        SELECT anc.item_id, p.parent_module_id, p.is_published
        FROM modules p JOIN anc ON p.id = anc.parent_module_id
    )
    SELECT item_id FROM anc GROUP BY item_id HAVING bool_and(is_published)
    """
)

# Items of a course under published modules only (walking down from the root through published modules).
_PUBLISHED_ITEMS_OF_COURSE = text(
    """
    WITH RECURSIVE pub AS (
        SELECT id FROM modules WHERE course_id = :course_id AND parent_module_id IS NULL AND is_published
        UNION ALL
        SELECT m.id FROM modules m JOIN pub ON m.parent_module_id = pub.id WHERE m.is_published
    )
    SELECT i.id AS item_id FROM content_items i JOIN pub ON pub.id = i.module_id
    """
)

# Every item under a module (the module included), published or not.
_ITEMS_UNDER_MODULE = text(
    """
    WITH RECURSIVE sub AS (
        SELECT id FROM modules WHERE id = :module_id
        UNION ALL
        SELECT m.id FROM modules m JOIN sub ON m.parent_module_id = sub.id
    )
    SELECT i.id AS item_id FROM content_items i JOIN sub ON sub.id = i.module_id
    """
)


async def published_item_ids(session: AsyncSession, item_ids: Sequence[int]) -> set[int]:
    if not item_ids:
        return set()
    rows = await session.execute(_PUBLISHED_ITEMS_BY_ID, {"ids": list(item_ids)})
    return {row.item_id for row in rows}


async def published_items_of_course(session: AsyncSession, course_id: int) -> list[int]:
    rows = await session.execute(_PUBLISHED_ITEMS_OF_COURSE, {"course_id": course_id})
    return sorted(row.item_id for row in rows)


async def items_under_module(session: AsyncSession, module_id: int) -> list[int]:
    rows = await session.execute(_ITEMS_UNDER_MODULE, {"module_id": module_id})
    return sorted(row.item_id for row in rows)


async def indexed_item_ids(session: AsyncSession, course_id: int) -> set[int]:
    rows = await session.execute(
        select(RetrievalChunk.content_item_id).where(RetrievalChunk.course_id == course_id).distinct()
    )
    return {row.content_item_id for row in rows}


async def course_ids(session: AsyncSession) -> list[int]:
    return list((await session.scalars(text("SELECT id FROM courses ORDER BY id"))).all())


# --- The backfill (services/backfill.py) --------------------------------------------------------------------

# Published items (every ancestor module published) with no chunk, of every course.
_UNINDEXED = """
    WITH RECURSIVE pub AS (
        SELECT id FROM modules WHERE parent_module_id IS NULL AND is_published
        UNION ALL
        SELECT m.id FROM modules m JOIN pub ON m.parent_module_id = pub.id WHERE m.is_published
    )
    SELECT i.id, i.course_id FROM content_items i JOIN pub ON pub.id = i.module_id
    WHERE NOT EXISTS (SELECT 1 FROM retrieval_chunks ch WHERE ch.content_item_id = i.id)
"""

# The advisory-lock namespace of the backfill (the first key of pg_try_advisory_xact_lock(int, int)).
BACKFILL_LOCK = 21_0001


async def courses_with_unindexed_items(session: AsyncSession) -> list[int]:
    rows = await session.scalars(text(f"SELECT DISTINCT u.course_id FROM ({_UNINDEXED}) u ORDER BY 1"))
    return list(rows.all())


async def unindexed_item_count(session: AsyncSession) -> int:
    return int(await session.scalar(text(f"SELECT count(*) FROM ({_UNINDEXED}) u")) or 0)


async def unindexed_items_of_course(session: AsyncSession, course_id: int, limit: int) -> list[int]:
    rows = await session.scalars(
        text(f"SELECT u.id FROM ({_UNINDEXED}) u WHERE u.course_id = :course_id ORDER BY u.id LIMIT :limit"),
        {"course_id": course_id, "limit": limit},
    )
    return list(rows.all())


async def lock_course_for_backfill(session: AsyncSession, course_id: int) -> bool:
    """The course's backfill lock for this transaction, unless another transaction holds it."""
    return bool(
        await session.scalar(
            text("SELECT pg_try_advisory_xact_lock(:space, :course_id)"),
            {"space": BACKFILL_LOCK, "course_id": course_id},
        )
    )


@dataclass(frozen=True)
class ItemSource:
    id: int
    course_id: int
    module_id: int
    title: str
    description: str | None
    learning_objectives: list[Any]
    data_json: Any
    gradable: bool
    text_search_config: str


async def item_sources(session: AsyncSession, item_ids: Sequence[int]) -> list[ItemSource]:
    rows = await session.execute(
        text(
            """
            SELECT i.id, i.course_id, i.module_id, i.title, i.description, i.learning_objectives, i.data_json,
                   t.gradable, c.text_search_config
            FROM content_items i
            JOIN content_types t ON t.id = i.content_type_id
            JOIN courses c ON c.id = i.course_id
            WHERE i.id = ANY(:ids)
            ORDER BY i.id
            """
        ),
        {"ids": list(item_ids)},
    )
    return [
        ItemSource(
            id=row.id,
            course_id=row.course_id,
            module_id=row.module_id,
            title=row.title,
            description=row.description,
            learning_objectives=list(row.learning_objectives or []),
            data_json=row.data_json,
            gradable=bool(row.gradable),
            text_search_config=row.text_search_config,
        )
        for row in rows
    ]


# --- Writing the index -----------------------------------------------------------------------------------------


def tsv_expression(config: Any, title: Any, body: Any) -> Any:
    """The title weighted A (it names what the chunk is about), the body at the default weight."""
    return func.setweight(func.to_tsvector(config, title), literal_column("'A'")).op("||")(
        func.to_tsvector(config, body)
    )


async def current_chunks(session: AsyncSession, item_ids: Sequence[int]) -> dict[int, list[tuple[str, str, int]]]:
    """Item id → its chunks' (title, body, module_id) in order."""
    rows = await session.execute(
        select(RetrievalChunk.content_item_id, RetrievalChunk.title, RetrievalChunk.body, RetrievalChunk.module_id)
        .where(RetrievalChunk.content_item_id.in_(list(item_ids)))
        .order_by(RetrievalChunk.content_item_id, RetrievalChunk.chunk_index)
    )
    found: dict[int, list[tuple[str, str, int]]] = {}
    for row in rows:
        found.setdefault(row.content_item_id, []).append((row.title, row.body, row.module_id))
    return found


async def move_chunks(session: AsyncSession, item_id: int, module_id: int) -> None:
    await session.execute(
        update(RetrievalChunk).where(RetrievalChunk.content_item_id == item_id).values(module_id=module_id)
    )


async def delete_chunks(session: AsyncSession, item_ids: Sequence[int]) -> None:
    if item_ids:
        await session.execute(delete(RetrievalChunk).where(RetrievalChunk.content_item_id.in_(list(item_ids))))


@dataclass(frozen=True)
class NewChunk:
    course_id: int
    content_item_id: int
    module_id: int
    chunk_index: int
    title: str
    body: str
    config: str


async def insert_chunks(session: AsyncSession, chunks: Sequence[NewChunk]) -> None:
    """One multi-row INSERT per thousand chunks; each row's tsvector computed by PostgreSQL with its course's
    configuration."""
    for start in range(0, len(chunks), 1000):
        batch = chunks[start : start + 1000]
        await session.execute(
            insert(RetrievalChunk).values(
                [
                    {
                        "course_id": c.course_id,
                        "content_item_id": c.content_item_id,
                        "module_id": c.module_id,
                        "chunk_index": c.chunk_index,
                        "title": c.title,
                        "body": c.body,
                        "tsv": tsv_expression(cast(literal(c.config), REGCONFIG), literal(c.title), literal(c.body)),
                    }
                    for c in batch
                ]
            )
        )


async def retokenize_course(session: AsyncSession, course_id: int, config: str) -> None:
    await session.execute(
        update(RetrievalChunk)
        .where(RetrievalChunk.course_id == course_id)
        .values(tsv=tsv_expression(cast(literal(config), REGCONFIG), RetrievalChunk.title, RetrievalChunk.body))
    )


async def text_search_config_exists(session: AsyncSession, name: str) -> bool:
    found = await session.scalar(text("SELECT 1 FROM pg_ts_config WHERE cfgname = :name"), {"name": name})
    return found is not None


async def enqueue_embedding_jobs(session: AsyncSession, item_ids: Sequence[int]) -> None:
    """One PENDING job per item at most: an item written twice before the worker runs is embedded once."""
    if not item_ids:
        return
    await session.execute(
        text(
            """
            INSERT INTO retrieval_embedding_jobs (content_item_id)
            SELECT x FROM unnest(CAST(:ids AS integer[])) AS x
            WHERE NOT EXISTS (
                SELECT 1 FROM retrieval_embedding_jobs j WHERE j.content_item_id = x AND j.status = 'PENDING'
            )
            """
        ),
        {"ids": list(item_ids)},
    )


# --- The embedding worker's reads and writes --------------------------------------------------------------------


async def vector_storage(session: AsyncSession) -> bool:
    """Whether this database has the vectors' table (created by the migration where `vector` exists)."""
    return bool(await session.scalar(text("SELECT to_regclass('retrieval_embeddings') IS NOT NULL")))


async def job_items(session: AsyncSession, job_ids: Sequence[int]) -> dict[int, int]:
    rows = await session.execute(
        select(EmbeddingJob.id, EmbeddingJob.content_item_id).where(EmbeddingJob.id.in_(list(job_ids)))
    )
    return {row.id: row.content_item_id for row in rows}


async def chunks_to_embed(session: AsyncSession, item_ids: Sequence[int], model: str) -> Sequence[Row[Any]]:
    """Chunks of the items without a vector of `model`."""
    return (
        await session.execute(
            text(
                """
                SELECT c.id, c.title, c.body FROM retrieval_chunks c
                LEFT JOIN retrieval_embeddings e ON e.chunk_id = c.id AND e.model = :model
                WHERE c.content_item_id = ANY(:ids) AND e.chunk_id IS NULL
                ORDER BY c.id
                """
            ),
            {"ids": list(item_ids), "model": model},
        )
    ).all()


def vector_literal(vector: Sequence[float]) -> str:
    return "[" + ",".join(repr(float(x)) for x in vector) + "]"


async def store_vectors(session: AsyncSession, model: str, vectors: Mapping[int, Sequence[float]]) -> int:
    """Upsert the chunks' vectors (a chunk deleted meanwhile is skipped); how many were written."""
    written = 0
    for chunk_id, vector in vectors.items():
        result = await session.execute(
            text(
                """
                INSERT INTO retrieval_embeddings (chunk_id, model, dims, embedding)
                SELECT c.id, :model, :dims, CAST(:embedding AS vector) FROM retrieval_chunks c WHERE c.id = :chunk_id
                ON CONFLICT (chunk_id) DO UPDATE
                    SET model = EXCLUDED.model, dims = EXCLUDED.dims, embedding = EXCLUDED.embedding,
                        created_at = now()
                """
            ),
            {"chunk_id": chunk_id, "model": model, "dims": len(vector), "embedding": vector_literal(vector)},
        )
        written += int(getattr(result, "rowcount", 0) or 0)
    return written


# HNSW indexes `vector` columns of up to 2,000 dimensions; a model with more is searched exactly.
HNSW_MAX_DIMS = 2000


def hnsw_index_name(dims: int) -> str:
    return f"ix_retrieval_embeddings_hnsw_{dims}"


async def ensure_hnsw_index(session: AsyncSession, dims: int) -> None:
    """One HNSW index per dimension in use: an expression index over `embedding::vector(dims)`, partial on
    `dims = N`, so the planner uses it for queries written the same way (`search_vectors`). Looked up first:
    CREATE INDEX locks the table against writes even when the index exists."""
    if not 0 < dims <= HNSW_MAX_DIMS:
        return
    if await session.scalar(text("SELECT to_regclass(:name) IS NOT NULL"), {"name": hnsw_index_name(dims)}):
        return
    await session.execute(
        text(
            f"CREATE INDEX IF NOT EXISTS {hnsw_index_name(dims)} ON retrieval_embeddings "
            f"USING hnsw ((embedding::vector({dims})) vector_cosine_ops) WHERE dims = {dims}"
        )
    )


async def delete_jobs(session: AsyncSession, job_ids: Sequence[int]) -> None:
    if job_ids:
        await session.execute(delete(EmbeddingJob).where(EmbeddingJob.id.in_(list(job_ids))))


async def delete_done_jobs(session: AsyncSession) -> None:
    await session.execute(delete(EmbeddingJob).where(EmbeddingJob.status == "DONE"))


async def pending_jobs(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).where(EmbeddingJob.status == "PENDING")) or 0)


# --- Search ----------------------------------------------------------------------------------------------------

# The courses searched: the given ones, or those the user is ACTIVE in; published courses only either way. "ACTIVE
# in" is the enrolment checks' own reading (authz/principal.py): an enrolment with status ACTIVE (never DROPPED,
# COMPLETED or waitlisted) in a course of a university that has not suspended the user (`member_suspensions`: while
# the row exists, none of the user's enrolments there count).
_COURSES = """
    SELECT c.id, c.text_search_config FROM courses c
    WHERE c.is_published AND (
        c.id = ANY(CAST(:course_ids AS integer[]))
        OR (CAST(:user_id AS integer) IS NOT NULL AND c.id IN (
            SELECT o.course_id FROM course_enrollments e
            JOIN course_offerings o ON o.id = e.course_offering_id
            JOIN courses oc ON oc.id = o.course_id
            WHERE e.user_id = :user_id AND e.status = 'ACTIVE' AND NOT EXISTS (
                SELECT 1 FROM member_suspensions s WHERE s.user_id = :user_id AND s.university_id = oc.university_id)))
    )
"""
# (The suspension test sits inside the enrolment subquery, not beside `c.id IN (…)`: there it changed the planner's
# estimate of the searched courses and the turn's search went from ~1 ms to ~60 ms on the bench data set.)

# The student's words OR-ed (plainto_tsquery ANDs them: a question rarely has every word of a passage), each
# course's query built with that course's configuration; ranked by ts_rank_cd (cover density).
_FTS = text(
    f"""
    WITH q AS (
        SELECT sc.id AS course_id,
               replace(plainto_tsquery(sc.text_search_config::regconfig, :query)::text, ' & ', ' | ')::tsquery AS query
        FROM ({_COURSES}) sc
    )
    SELECT ch.id, ch.content_item_id, ch.module_id, ch.title, ch.body, ts_rank_cd(ch.tsv, q.query) AS rank
    FROM q JOIN retrieval_chunks ch ON ch.course_id = q.course_id AND ch.tsv @@ q.query
    ORDER BY rank DESC, ch.id
    LIMIT :limit
    """
)


async def search_text(
    session: AsyncSession, query: str, course_ids: Sequence[int], user_id: int | None, limit: int
) -> Sequence[Row[Any]]:
    params = {"query": query, "course_ids": list(course_ids), "user_id": user_id, "limit": limit}
    return (await session.execute(_FTS, params)).all()


async def search_vectors(
    session: AsyncSession,
    vector: Sequence[float],
    model: str,
    course_ids: Sequence[int],
    user_id: int | None,
    limit: int,
) -> Sequence[Row[Any]]:
    dims = len(vector)
    stmt = text(
        f"""
        SELECT ch.id, ch.content_item_id, ch.module_id, ch.title, ch.body
        FROM retrieval_embeddings e
        JOIN retrieval_chunks ch ON ch.id = e.chunk_id
        WHERE e.dims = {dims} AND e.model = :model AND ch.course_id IN (SELECT id FROM ({_COURSES}) sc)
        ORDER BY (e.embedding::vector({dims})) <=> CAST(:vector AS vector({dims})), ch.id
        LIMIT :limit
        """
    )
    params = {
        "vector": vector_literal(vector),
        "model": model,
        "course_ids": list(course_ids),
        "user_id": user_id,
        "limit": limit,
    }
    return (await session.execute(stmt, params)).all()
