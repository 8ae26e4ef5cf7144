"""Where the database comes from: the configured URL, or the embedded server started on demand."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import asyncpg

from twosigma.config import Settings
from twosigma.db.embedded import EmbeddedPostgres

logger = logging.getLogger(__name__)

EMBEDDED_DATABASE = "twosigma"


@dataclass
class DatabaseTarget:
    url: str
    embedded: EmbeddedPostgres | None = None

    def release(self) -> None:
        if self.embedded is not None:
            self.embedded.stop()
            self.embedded = None


async def ensure_database(embedded: EmbeddedPostgres, name: str) -> None:
    admin_url = embedded.url("postgres").replace("postgresql+asyncpg", "postgresql")
    conn = await asyncpg.connect(admin_url)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def resolve_database(settings: Settings) -> DatabaseTarget:
    """The configured URL, or a started embedded server (which the caller must `release()`)."""
    if settings.database_url:
        return DatabaseTarget(url=settings.database_url)
    embedded = EmbeddedPostgres(settings.data_dir)
    embedded.start()
    await ensure_database(embedded, EMBEDDED_DATABASE)
    return DatabaseTarget(url=embedded.url(EMBEDDED_DATABASE), embedded=embedded)
