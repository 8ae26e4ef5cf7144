"""Retrieval for a tutor turn: the chunks of course material nearest the student's question, numbered for the
prompt, and the citations stored with the reply.

Scope: the session's course, or — a session with no content item — every course the student is ACTIVE in;
published courses only, and only chunks of published items (the index holds nothing else). Answer keys are never
in the index (indexing.py reads items through the student view).

Ranking: full text always (`ts_rank_cd` over the course's configuration); when an embedding provider is configured
and vectors exist, the query is embedded at turn time (a short timeout; on failure full text only) and the two
rankings are fused by reciprocal rank fusion, score = sum of 1 / (60 + rank). A turn runs the two halves apart:
`search_text` in the request's unit of work, `search_vectors` after it committed, so the provider call (up to
2 s) holds no database connection; the vector query gets a short session of its own. The best `tutor.retrieval_k` chunks
are kept while their estimated tokens fit `tutor.retrieval_token_budget`.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.retrieval import repository as repo
from twosigma.retrieval.services.providers import EmbeddingConfig, EmbeddingFailed, embed, embedding_config
from twosigma.system_settings.effective import EffectiveSettings

logger = logging.getLogger(__name__)

RRF_K = 60
# Candidates each ranking contributes before fusion.
CANDIDATES = 20
# The query embedding is computed while the turn waits (holding no connection): a slow provider costs this much
# at most.
QUERY_EMBEDDING_TIMEOUT_SECONDS = 2.0
SNIPPET_CHARS = 200
# Characters of the student's message and of the previous turn that make the query.
QUERY_CHARS = 2000
CHARS_PER_TOKEN = 4
SOURCE_OVERHEAD_TOKENS = 8
_CITED = re.compile(r"\[(\d{1,3})\]")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Source:
    n: int
    content_item_id: int
    module_id: int
    title: str
    text: str

    @property
    def snippet(self) -> str:
        flat = _SPACES.sub(" ", self.text).strip()
        return flat if len(flat) <= SNIPPET_CHARS else flat[: SNIPPET_CHARS - 1].rstrip() + "…"


@dataclass(frozen=True)
class Retrieved:
    sources: list[Source]
    elapsed_ms: int
    ranking: str  # "fts", "fused", or "off"


def estimate_tokens(title: str, body: str) -> int:
    return math.ceil((len(title) + len(body)) / CHARS_PER_TOKEN) + SOURCE_OVERHEAD_TOKENS


def fuse(*rankings: Sequence[int]) -> list[int]:
    """Reciprocal rank fusion of ranked id lists: best first, ties by first appearance."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, chunk_id in enumerate(ranking, start=1):
            scores[chunk_id] = scores.get(chunk_id, 0.0) + 1.0 / (RRF_K + rank)
    order = {chunk_id: i for i, chunk_id in enumerate(dict.fromkeys(c for r in rankings for c in r))}
    return sorted(scores, key=lambda chunk_id: (-scores[chunk_id], order[chunk_id]))


# Words too common to say what a question is about, in the languages a course most often uses. The `simple`
# configuration (the default) keeps every word, and an OR-ed "what is the ..." would match, and rank, every chunk
# of the course; language configurations drop their own stop words as well.
STOP_WORDS = frozenset(
    """
    a an and are as at be been but by can could did do does for from had has have how i if in into is it its me
    my no not of on or our so than that the their them then there these they this to too us was we were what
    when where which who whom why will with would you your yes please tell explain about just also more once
    der die das und ist ein eine einen nicht zu mit den von im ich du wie was warum wer auf für es sie er
    le la les un une des et est de du en que qui pour pas dans ce il elle je tu comment pourquoi
    el los las y es por con para una qué como del lo se al
    il lo gli e di che per non un una sono come perché
    het een en van dat niet ik je hoe wat waarom
    o os as um uma que não para com como por
    """.split()
)
# Most distinct words a query keeps: the student's own first, then the previous turn's.
MAX_QUERY_TERMS = 16
_WORDS = re.compile(r"\w+")


def query_text(message: str, previous: Sequence[str]) -> str:
    """The words that say what the student asks about: their message's, then the last turn's before it (for a
    follow-up such as "and why is that?"), without stop words, each once, at most MAX_QUERY_TERMS."""
    terms: list[str] = []
    for part in (message[:QUERY_CHARS], *(p[: QUERY_CHARS // 2] for p in previous)):
        for word in _WORDS.findall(part.lower()):
            if len(word) > 1 and word not in STOP_WORDS and word not in terms:
                terms.append(word)
    return " ".join(terms[:MAX_QUERY_TERMS])


@dataclass(frozen=True)
class TextFound:
    """The first half of a turn's retrieval, read in the request's unit of work: the full-text candidates (one
    statement) and whether the query still needs an embedding (`embedding` set) for the vector half."""

    query: str
    courses: list[int]
    scope_user: int | None
    k: int
    budget: int
    rows: Sequence[Any]
    embedding: EmbeddingConfig | None
    started: float
    ranking: str  # "fts" or "off"


async def search_text(
    session: AsyncSession,
    effective: EffectiveSettings,
    query: str,
    *,
    course_id: int | None,
    user_id: int,
) -> TextFound:
    """The full-text candidates of `course_id` (or, None, of every course `user_id` is ACTIVE in): one statement
    in the caller's transaction. No provider is called here."""
    started = time.perf_counter()
    k, budget = effective.tutor_retrieval_k, effective.tutor_retrieval_token_budget
    courses = [course_id] if course_id is not None else []
    scope_user = None if course_id is not None else user_id
    if k <= 0 or budget <= 0:
        return TextFound(query, courses, scope_user, k, budget, [], None, started, "off")
    if not query.strip():  # nothing but stop words ("why?"): no material, and no query
        return TextFound(query, courses, scope_user, k, budget, [], None, started, "fts")
    rows = await repo.search_text(session, query, courses, scope_user, max(CANDIDATES, k))
    config = embedding_config(effective)
    if config is not None and not await _has_vectors(session):
        config = None
    return TextFound(query, courses, scope_user, k, budget, rows, config, started, "fts")


SessionOpener = Callable[[], AbstractAsyncContextManager[AsyncSession]]


async def search_vectors(found: TextFound, open_session: SessionOpener) -> Retrieved:
    """The second half: the query embedded while NO database connection is held (call it after the unit of work
    committed), then the vector candidates read in a short session of `open_session`, fused with the full-text
    ones. A provider failure or timeout (QUERY_EMBEDDING_TIMEOUT_SECONDS) leaves the full-text ranking."""
    rows: dict[int, Any] = {row.id: row for row in found.rows}
    order = [row.id for row in found.rows]
    ranking = found.ranking
    config = found.embedding
    if config is not None:
        try:
            vector = (await embed(config, [found.query], QUERY_EMBEDDING_TIMEOUT_SECONDS))[0]
        except EmbeddingFailed as exc:
            logger.warning("query embedding failed (%s): full-text retrieval only", exc)
        else:
            async with open_session() as session:
                vector_rows = await repo.search_vectors(
                    session, vector, config.model, found.courses, found.scope_user, max(CANDIDATES, found.k)
                )
            rows.update((row.id, row) for row in vector_rows)
            if vector_rows:
                order = fuse(order, [row.id for row in vector_rows])
                ranking = "fused"
    sources: list[Source] = []
    spent = 0
    for chunk_id in order:
        row = rows[chunk_id]
        cost = estimate_tokens(row.title, row.body)
        if spent + cost > found.budget:
            continue
        spent += cost
        sources.append(Source(len(sources) + 1, row.content_item_id, row.module_id, row.title, row.body))
        if len(sources) >= found.k:
            break
    elapsed = 0 if ranking == "off" else round((time.perf_counter() - found.started) * 1000)
    return Retrieved(sources, elapsed, ranking)


async def retrieve(
    session: AsyncSession,
    effective: EffectiveSettings,
    query: str,
    *,
    course_id: int | None,
    user_id: int,
) -> Retrieved:
    """Both halves in one session (the command line, the bench): the course material for `course_id`, or (None)
    for every course `user_id` is ACTIVE in. A tutor turn runs the halves apart (tutor/orchestrator.py), so that no
    connection waits on the provider."""
    found = await search_text(session, effective, query, course_id=course_id, user_id=user_id)

    @asynccontextmanager
    async def same_session() -> AsyncIterator[AsyncSession]:
        yield session

    return await search_vectors(found, same_session)


_vector_storage: dict[str, bool] = {}


async def _has_vectors(session: AsyncSession) -> bool:
    """Whether this database has vector storage; asked once per database and process (it changes only by a
    migration)."""
    key = str(session.get_bind().engine.url)
    if key not in _vector_storage:
        _vector_storage[key] = await repo.vector_storage(session)
    return _vector_storage[key]


def course_material(sources: Sequence[Source]) -> str:
    """The prompt variable: one numbered source a paragraph, "[1] Title — text"."""
    return "\n\n".join(f"[{s.n}] {s.title} — {_SPACES.sub(' ', s.text).strip()}" for s in sources)


def cited_numbers(reply: str) -> set[int]:
    return {int(n) for n in _CITED.findall(reply)}


def citations(sources: Sequence[Source], reply: str) -> list[dict[str, Any]]:
    """`meta.citations`: every source the model was given, `used` when the reply cites its number."""
    cited = cited_numbers(reply)
    return [
        {
            "n": s.n,
            "content_item_id": s.content_item_id,
            "module_id": s.module_id,
            "title": s.title,
            "snippet": s.snippet,
            "used": s.n in cited,
        }
        for s in sources
    ]
