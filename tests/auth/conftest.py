"""A committing app for the auth concurrency tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.fixtures.auth import LiveClient, live_client
from twosigma.config import Settings


@pytest.fixture
async def live(settings: Settings, db_engine: AsyncEngine) -> AsyncIterator[LiveClient]:
    async for client in live_client(settings, db_engine):
        yield client
