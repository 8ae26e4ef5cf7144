from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from tests.fixtures.database import create_scratch_database, drop_database
from twosigma.config import get_settings


@pytest.fixture
def scratch_url(server_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An empty database for command-line tests (the commands migrate it themselves)."""
    url = asyncio.run(create_scratch_database(server_url))
    monkeypatch.setenv("TWOSIGMA_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()
    asyncio.run(drop_database(url))
