"""A migrated scratch database of its own, for suites whose app must COMMIT (served apps, other processes)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

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


@contextmanager
def restored_logging() -> Iterator[None]:
    """An app built for a server (`database=None`) configures the process's logging (a JSON handler on the root
    logger); put the test session's logging back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        for handler in root.handlers:
            if handler not in handlers:
                root.removeHandler(handler)
        root.setLevel(level)
