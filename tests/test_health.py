from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from twosigma.app import create_app
from twosigma.config import Settings
from twosigma.db.engine import Database, make_engine, make_sessionmaker


class TestHealth:
    async def test_health_answers_ok(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/health")
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}

    async def test_root_health_answers_too(self, client: httpx.AsyncClient) -> None:
        assert (await client.get("/health")).json() == {"status": "ok"}

    async def test_ready_when_database_is_migrated(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/health/ready")
        assert response.status_code == 200
        body = response.json()
        # `details` says the index is full-text only on a server without the `vector` extension (CI's PostgreSQL 15).
        body.pop("details", None)
        assert body == {"status": "ready", "database": "ok", "migrations": "head"}

    async def test_not_ready_when_database_is_unreachable(self, settings: Settings) -> None:
        engine = make_engine("postgresql+asyncpg://nobody@127.0.0.1:1/nowhere", settings)
        app = create_app(settings=settings, database=Database(engine=engine, sessionmaker=make_sessionmaker(engine)))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as ac:
            response = await ac.get("/health/ready")
        await engine.dispose()
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "not_ready"
        assert response.json()["error"]["details"]["database"] == "unreachable"

    async def test_not_ready_when_migrations_are_behind(
        self, settings: Settings, server_url: str, db_engine: AsyncEngine
    ) -> None:
        from tests.fixtures.database import create_scratch_database, drop_database

        url = await create_scratch_database(server_url)
        engine = make_engine(url, settings)
        try:
            app = create_app(
                settings=settings, database=Database(engine=engine, sessionmaker=make_sessionmaker(engine))
            )
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as ac:
                response = await ac.get("/health/ready")
            assert response.status_code == 503
            assert response.json()["error"]["details"] == {"database": "ok", "migrations": "none"}
        finally:
            await engine.dispose()
            await drop_database(url)
