"""Shared fixtures: a real PostgreSQL per session, a rolled-back transaction per test, an ASGI client."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from tests.fixtures.database import (
    TEST_DATABASE_URL_ENV,
    create_scratch_database,
    drop_database,
    embedded_server,
)
from twosigma.app import build_state, create_app
from twosigma.config import Environment, Settings
from twosigma.db import migrate
from twosigma.db.engine import Database, make_engine, make_sessionmaker
from twosigma.kit.state import install_state

pytest_plugins = ["tests.fixtures.factories", "tests.fixtures.membership", "tests.fakes.fixtures"]

TEST_ENCRYPTION_KEY = Fernet.generate_key().decode()
# The test app is configured like a real install: /metrics needs this token (tests/fixtures/factories.py sends it).
TEST_METRICS_TOKEN = "test-metrics-token-0123456789"


@pytest.fixture(scope="session", autouse=True)
def _data_dir_of_the_session() -> Iterator[Path]:
    """Commands under test (get_settings()) keep their generated secrets here, never in the user's data dir."""
    path = Path(tempfile.mkdtemp(prefix="twosigma-test-data-", dir="/tmp"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TWOSIGMA_DATA_DIR", str(path))
        yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """URL of a PostgreSQL server the tests may create databases on."""
    external = os.environ.get(TEST_DATABASE_URL_ENV)
    if external:
        yield external
        return
    with embedded_server() as server:
        yield server.url("postgres")


@pytest.fixture(scope="session")
async def database_url(server_url: str) -> AsyncIterator[str]:
    url = await create_scratch_database(server_url)
    yield url
    await drop_database(url)


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment=Environment.TEST,
        database_url=database_url,
        secret_key=SecretStr("test-secret-key-that-is-long-enough-0123456789"),
        encryption_keys=[SecretStr(TEST_ENCRYPTION_KEY)],
        metrics_token=SecretStr(TEST_METRICS_TOKEN),
        bcrypt_rounds=4,
    )


@pytest.fixture(scope="session")
async def db_engine(database_url: str, settings: Settings) -> AsyncIterator[AsyncEngine]:
    """Engine on the test database, built by `alembic upgrade head` (never create_all)."""
    engine = make_engine(database_url, settings)
    await migrate.upgrade(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
async def db_connection(db_engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection inside a transaction that is rolled back after the test."""
    async with db_engine.connect() as conn:
        transaction = await conn.begin()
        try:
            yield conn
        finally:
            if transaction.is_active:
                await transaction.rollback()


@pytest.fixture
def test_sessionmaker(db_connection: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    # Commits inside the app become savepoint releases on the test's transaction.
    return async_sessionmaker(bind=db_connection, expire_on_commit=False, join_transaction_mode="create_savepoint")


@pytest.fixture
async def db(test_sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session for arranging and inspecting data; it shares the test's transaction with the app."""
    async with test_sessionmaker() as session:
        yield session


@pytest.fixture(scope="session")
def shared_app(settings: Settings, db_engine: AsyncEngine) -> FastAPI:
    # Building an app costs about a second (FastAPI analyses every route), so tests share one; `app` gives each
    # test fresh per-app state on top of it.
    return create_app(settings=settings, database=Database(engine=db_engine, sessionmaker=make_sessionmaker(db_engine)))


@pytest.fixture
async def app(
    shared_app: FastAPI,
    settings: Settings,
    db_engine: AsyncEngine,
    test_sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[FastAPI]:
    """The app, bound to this test's transaction, with fresh rate limits, caches, clients and overrides."""
    state = build_state(settings, Database(engine=db_engine, sessionmaker=test_sessionmaker))
    install_state(shared_app, state)
    shared_app.dependency_overrides.clear()
    try:
        yield shared_app
    finally:
        shared_app.dependency_overrides.clear()
        await state.llm_providers.aclose()


@pytest.fixture
def fresh_app(
    settings: Settings, db_engine: AsyncEngine, test_sessionmaker: async_sessionmaker[AsyncSession]
) -> FastAPI:
    """An app of the test's own, for tests that add routes or middleware to it."""
    return create_app(settings=settings, database=Database(engine=db_engine, sessionmaker=test_sessionmaker))


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as ac:
        yield ac
