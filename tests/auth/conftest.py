"""A committing app for the auth concurrency tests; a record of the bcrypt work requests do; other settings."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.fixtures.auth import BcryptWork, Configure, LiveClient, live_client, watch_bcrypt
from twosigma.config import Settings
from twosigma.kit.state import state_of


@pytest.fixture
async def live(settings: Settings, db_engine: AsyncEngine) -> AsyncIterator[LiveClient]:
    async for client in live_client(settings, db_engine):
        yield client


@pytest.fixture
def bcrypt_work(monkeypatch: pytest.MonkeyPatch) -> BcryptWork:
    return watch_bcrypt(monkeypatch)


@pytest.fixture
def configure(app: FastAPI) -> Iterator[Configure]:
    """Run this test's app with some settings changed (`configure(bcrypt_rounds=5)`); restored afterwards."""
    original: Settings = state_of(app).settings

    def apply(**changes: Any) -> Settings:
        state_of(app).settings = original.model_copy(update=changes)
        changed: Settings = state_of(app).settings
        return changed

    yield apply
    state_of(app).settings = original
