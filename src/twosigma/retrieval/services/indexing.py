"""Keeping the course index current, in the caller's transaction.

The content service calls `index_items` after creating, editing or moving items, `index_module` after a module's
publication or place changed, and the courses service `course_config_changed` after a new text-search
configuration: the chunks change in the same transaction as the content, so a committed write is searchable (and
an unpublished item gone) at once. Deleting an item or a module needs no call: the chunks' foreign key cascades.
Vectors are not computed here: each indexed item gets an embedding job, drained later by the worker
(services/embedding.py), so a content write never waits for a provider.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.assessments.views import item_data_for
from twosigma.kit.errors import Invalid
from twosigma.retrieval import repository as repo
from twosigma.retrieval.chunking import item_text, split
from twosigma.retrieval.repository import ItemSource, NewChunk


def chunks_of(source: ItemSource) -> list[str]:
    """The item's chunks as a student may read them: the data through the one student view (no answer keys)."""
    data = item_data_for(source.data_json, gradable=source.gradable, answer_keys=False)
    return split(item_text(source.description, source.learning_objectives, data)) or [source.title]


async def index_items(session: AsyncSession, item_ids: Sequence[int], *, embed_all: bool = False) -> int:
    """Re-index these items: the published ones get fresh chunks (and an embedding job) when their text changed,
    the rest lose theirs. The number of chunks written."""
    ids = sorted(set(item_ids))
    if not ids:
        return 0
    published = await repo.published_item_ids(session, ids)
    sources = await repo.item_sources(session, sorted(published))
    current = await repo.current_chunks(session, ids)
    changed: list[int] = []
    chunks: list[NewChunk] = []
    for s in sources:
        bodies = chunks_of(s)
        existing = current.get(s.id, [])
        if [(title, body) for title, body, _ in existing] == [(s.title, body) for body in bodies]:
            # Same text (an edit of another field, a move, a republish): the chunks and their vectors stay.
            if existing[0][2] != s.module_id:
                await repo.move_chunks(session, s.id, s.module_id)
            continue
        changed.append(s.id)
        chunks.extend(
            NewChunk(s.course_id, s.id, s.module_id, index, s.title, body, s.text_search_config)
            for index, body in enumerate(bodies)
        )
    kept = {s.id for s in sources} - set(changed)
    await repo.delete_chunks(session, [item_id for item_id in ids if item_id not in kept])
    await repo.insert_chunks(session, chunks)
    # `embed_all` (a rebuild): every published item gets a job; the worker embeds only chunks lacking a vector of
    # the configured model, so after a model change everything is embedded again, and otherwise nothing is.
    await repo.enqueue_embedding_jobs(session, [s.id for s in sources] if embed_all else changed)
    return len(chunks)


async def index_module(session: AsyncSession, module_id: int) -> int:
    """Re-index every item under a module whose publication (or whose ancestors') may have changed."""
    return await index_items(session, await repo.items_under_module(session, module_id))


async def check_text_search_config(session: AsyncSession, name: str) -> None:
    """422 unless PostgreSQL knows the configuration (`pg_ts_config`)."""
    if not await repo.text_search_config_exists(session, name):
        message = f"{name!r} is not a text-search configuration of this database (see pg_ts_config)."
        raise Invalid(
            message,
            code="unknown_text_search_config",
            details=[{"loc": ["body", "text_search_config"], "msg": message, "type": "unknown_text_search_config"}],
        )


async def course_config_changed(session: AsyncSession, course_id: int, config: str) -> None:
    """The course's chunks tokenized again with its new configuration (the text stays; only the tsvector
    changes)."""
    await repo.retokenize_course(session, course_id, config)


Progress = Callable[[int, int], None]


async def rebuild_course(
    session: AsyncSession, course_id: int, *, batch: int = 200, progress: Progress | None = None
) -> int:
    """Index a course again: every published item (chunks whose text is unchanged are kept, with their vectors),
    chunks of anything else dropped, an embedding job for every item. Chunks written."""
    wanted = await repo.published_items_of_course(session, course_id)
    stale = sorted(await repo.indexed_item_ids(session, course_id) - set(wanted))
    await repo.delete_chunks(session, stale)
    written = 0
    for start in range(0, len(wanted), batch):
        written += await index_items(session, wanted[start : start + batch], embed_all=True)
        if progress is not None:
            progress(min(start + batch, len(wanted)), len(wanted))
    if progress is not None and not wanted:
        progress(0, 0)
    return written


async def all_course_ids(session: AsyncSession) -> list[int]:
    return await repo.course_ids(session)
