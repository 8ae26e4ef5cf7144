"""read_session (db/session.py): reads outside the request's unit of work, in a session of the app's sessionmaker
that is never committed. The tests' sessionmaker is bound to their transaction, so the same code runs here as in
production; the tests that need production's own path (a pooled connection, a lost one) build a Database on the
test server."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, event, func, insert, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tests.fixtures.factories import make_user
from twosigma.app import create_app
from twosigma.auth.tokens import TokenType, encode_token
from twosigma.config import Settings
from twosigma.db.engine import Database
from twosigma.db.session import read_session
from twosigma.kit.handlers import is_database_unavailable
from twosigma.tenancy.models import Country
from twosigma.users.models import User

PROBE_CODE = "Q9"  # no factory makes this code (they draw from AA..ZZ only once the test asks for free codes)


def inserting_country(name: str) -> Any:
    """A SELECT that writes: a data-modifying CTE inserting a country, read back."""
    added = insert(Country).values(code=PROBE_CODE, name=name).returning(Country.id).cte("added")
    return select(added.c.id)


@pytest.fixture
async def production(database_url: str, settings: Settings) -> AsyncIterator[Database]:
    """A Database as a server builds it (its own engine and pool), on the test database, outside any test
    transaction; the probe country is removed afterwards whatever happened."""
    db = Database.from_url(database_url, settings.model_copy(update={"db_pool_size": 1, "db_max_overflow": 0}))
    try:
        yield db
    finally:
        async with db.sessionmaker() as session:
            await session.execute(delete(Country).where(Country.code == PROBE_CODE))
            await session.commit()
        await db.dispose()


async def committed_probe_count(db: Database) -> int:
    async with db.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).where(Country.code == PROBE_CODE)) or 0)


class TestOnTheTestsTransaction:
    async def test_it_sees_what_the_test_wrote_in_its_transaction(
        self, db: AsyncSession, db_engine: AsyncEngine, test_sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        user = await make_user(db)
        await db.flush()
        async with read_session(Database(engine=db_engine, sessionmaker=test_sessionmaker)) as read:
            email = (await read.execute(select(User.email).where(User.id == user.id))).scalar_one()
        assert email == user.email

    async def test_a_write_through_it_is_rolled_back(
        self, db: AsyncSession, db_engine: AsyncEngine, test_sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        async with read_session(Database(engine=db_engine, sessionmaker=test_sessionmaker)) as read:
            assert (await read.execute(inserting_country("Rolled back"))).scalar_one() > 0
        assert await db.scalar(select(func.count()).where(Country.code == PROBE_CODE)) == 0


class TestInProduction:
    async def test_a_write_through_it_does_not_persist(self, production: Database) -> None:
        async with read_session(production) as read:
            assert (await read.execute(inserting_country("Never committed"))).scalar_one() > 0
        assert await committed_probe_count(production) == 0

    async def test_it_sees_committed_data(self, production: Database) -> None:
        async with production.sessionmaker() as session:
            session.add(Country(code=PROBE_CODE, name="Committed"))
            await session.commit()
        async with read_session(production) as read:
            names = (await read.execute(select(Country.name).where(Country.code == PROBE_CODE))).scalars().all()
        assert names == ["Committed"]

    async def test_the_engines_statement_listeners_see_its_statements(self, production: Database) -> None:
        seen: list[str] = []

        def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            seen.append(statement)

        event.listen(production.engine.sync_engine, "before_cursor_execute", before)
        try:
            async with read_session(production) as read:
                await read.execute(select(Country.id).where(Country.code == PROBE_CODE))
        finally:
            event.remove(production.engine.sync_engine, "before_cursor_execute", before)
        assert len(seen) == 1
        assert seen[0].startswith("SELECT countries.id")

    async def test_a_connection_lost_mid_read_is_a_503_and_the_next_read_gets_a_working_one(
        self, production: Database
    ) -> None:
        with pytest.raises(DBAPIError) as caught:
            async with read_session(production) as read:
                await read.execute(select(func.pg_terminate_backend(func.pg_backend_pid())))
        assert is_database_unavailable(caught.value)  # what kit/handlers.py answers with 503
        assert production.engine.pool.checkedout() == 0
        async with read_session(production) as read:
            assert (await read.execute(select(func.abs(-42)))).scalar_one() == 42


async def test_the_principal_read_on_a_server_that_is_down_answers_503(settings: Settings) -> None:
    with tempfile.TemporaryDirectory(dir="/tmp") as nowhere:
        down = Database.from_url(f"postgresql+asyncpg://postgres@/postgres?host={nowhere}", settings)
        app = create_app(settings=settings, database=down)
        token, _ = encode_token(settings, user_id=1, token_type=TokenType.ACCESS, lifetime=timedelta(minutes=5))
        try:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                response = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
        finally:
            await down.dispose()
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "database_unavailable"
