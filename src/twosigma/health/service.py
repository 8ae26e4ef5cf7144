from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy import text

from twosigma.db.engine import Database
from twosigma.db.migrate import current_revisions, head_revisions

FULL_TEXT_ONLY = (
    "The database has no `vector` extension: the course index is full-text only (embeddings are not stored)."
)


@dataclass(frozen=True)
class ReadinessResult:
    ok: bool
    reason: str
    database: str
    migrations: str
    # Said once, when the course index is full-text only because the database lacks the `vector` extension.
    retrieval: str | None = None


async def check_readiness(db: Database, timeout_seconds: float = 5.0) -> ReadinessResult:
    try:
        async with asyncio.timeout(timeout_seconds):
            async with db.engine.connect() as conn:
                # Also the liveness ping: the vectors' table exists only where the `vector` extension does.
                vectors = bool(await conn.scalar(text("SELECT to_regclass('retrieval_embeddings') IS NOT NULL")))
            current = await current_revisions(db.engine)
    except Exception as exc:  # any failure to reach the database means "not ready"
        return ReadinessResult(False, f"Database unreachable ({type(exc).__name__}).", "unreachable", "unknown")
    if current != head_revisions():
        return ReadinessResult(
            False,
            "Database schema is not at the latest migration; run `twosigma db upgrade`.",
            "ok",
            ",".join(sorted(current)) or "none",
        )
    retrieval = None if vectors else FULL_TEXT_ONLY
    return ReadinessResult(True, "ready", "ok", "head", retrieval)
