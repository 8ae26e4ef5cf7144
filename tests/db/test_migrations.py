"""Every migration upgrades and downgrades cleanly, and the migrated schema equals the models."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

import twosigma.models  # noqa: F401
from tests.db.schema_expectations import VECTOR_TABLES
from tests.fixtures.database import create_scratch_database, drop_database
from twosigma.config import Settings
from twosigma.db import migrate
from twosigma.db.base import Base
from twosigma.db.engine import make_engine


def _diff(connection: Connection) -> list[Any]:
    # The vectors' table exists only where the `vector` extension does, and is not a model (retrieval/models.py).
    context = MigrationContext.configure(
        connection,
        opts={
            "compare_type": True,
            "compare_server_default": True,
            "include_name": lambda name, type_, parents: not (type_ == "table" and name in VECTOR_TABLES),
        },
    )
    return list(compare_metadata(context, Base.metadata))


class TestMigrations:
    async def test_migrated_schema_has_no_autogenerate_diff_from_models(self, db_engine: AsyncEngine) -> None:
        async with db_engine.connect() as conn:
            diff = await conn.run_sync(_diff)
        assert diff == []

    async def test_test_database_is_at_head(self, db_engine: AsyncEngine) -> None:
        assert await migrate.is_at_head(db_engine)

    async def test_downgrade_to_base_and_upgrade_again_works(self, server_url: str, settings: Settings) -> None:
        url = await create_scratch_database(server_url)
        engine = make_engine(url, settings)
        try:
            await migrate.upgrade(engine)
            assert await migrate.is_at_head(engine)
            await migrate.downgrade(engine, "base")
            async with engine.connect() as conn:
                tables = (
                    (
                        await conn.execute(
                            text(
                                "SELECT table_name FROM information_schema.tables "
                                "WHERE table_schema = 'public' AND table_name <> 'alembic_version'"
                            )
                        )
                    )
                    .scalars()
                    .all()
                )
                enums = (await conn.execute(text("SELECT typname FROM pg_type WHERE typtype = 'e'"))).scalars().all()
            assert tables == []
            assert enums == []
            await migrate.upgrade(engine)
            assert await migrate.is_at_head(engine)
        finally:
            await engine.dispose()
            await drop_database(url)
