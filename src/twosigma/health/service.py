from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy import text

from twosigma.db.engine import Database
from twosigma.db.migrate import current_revisions, head_revisions


@dataclass(frozen=True)
class ReadinessResult:
    ok: bool
    reason: str
    database: str
    migrations: str


async def check_readiness(db: Database, timeout_seconds: float = 5.0) -> ReadinessResult:
    try:
        async with asyncio.timeout(timeout_seconds):
            async with db.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
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
    return ReadinessResult(True, "ready", "ok", "head")
