"""A migrated scratch database of its own, for suites whose app must COMMIT (served apps, other processes)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tests.fixtures.database import create_scratch_database, drop_database
from twosigma.config import Settings
from twosigma.db import migrate
from twosigma.db.engine import make_engine


@asynccontextmanager
async def scratch_database(server_url: str, settings: Settings) -> AsyncIterator[str]:
    """Create, migrate (alembic upgrade head), yield the URL, drop (WITH FORCE) at the end."""
    url = await create_scratch_database(server_url)
    engine = make_engine(url, settings)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()
    try:
        yield url
    finally:
        await drop_database(url)
