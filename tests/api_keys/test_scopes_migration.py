"""Migration 0002 on a scratch database: keys made before scopes existed keep read and write (not deploy); keys
made after it without scopes only read."""

from __future__ import annotations

from sqlalchemy import text

from tests.fixtures.database import create_scratch_database, drop_database
from twosigma.config import Settings
from twosigma.db import migrate
from twosigma.db.engine import make_engine

INSERT = "INSERT INTO api_keys (public_key, secret_hash, name) VALUES (:public_key, 'hash', :name)"
SCOPES = "SELECT scopes FROM api_keys WHERE public_key = :public_key"


class TestScopesMigration:
    async def test_existing_keys_get_read_and_write_and_new_ones_read_only(
        self, server_url: str, settings: Settings
    ) -> None:
        url = await create_scratch_database(server_url)
        engine = make_engine(url, settings)
        try:
            await migrate.upgrade(engine, "0001")
            async with engine.begin() as conn:
                await conn.execute(text(INSERT), {"public_key": "pk-lf-old", "name": "made before scopes"})
            await migrate.upgrade(engine, "0002")
            async with engine.begin() as conn:
                await conn.execute(text(INSERT), {"public_key": "pk-lf-new", "name": "made after"})
                old = (await conn.execute(text(SCOPES), {"public_key": "pk-lf-old"})).scalar_one()
                new = (await conn.execute(text(SCOPES), {"public_key": "pk-lf-new"})).scalar_one()
            assert old == ["prompts:read", "prompts:write"]
            assert new == ["prompts:read"]
        finally:
            await engine.dispose()
            await drop_database(url)
