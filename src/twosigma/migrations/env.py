"""Alembic environment: async, driven either by a connection handed in by code or by a URL."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

import twosigma.models  # noqa: F401  (registers every table on Base.metadata)
from twosigma.db.base import Base

config = context.config
target_metadata = Base.metadata

# Tables a migration creates only on some servers (the vectors need the `vector` extension), kept out of the
# models: autogenerate must neither add nor drop them.
CONDITIONAL_TABLES = frozenset({"retrieval_embeddings"})


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    return not (type_ == "table" and name in CONDITIONAL_TABLES)


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        compare_server_default=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from twosigma.config import get_settings

    settings_url = get_settings().database_url
    if not settings_url:
        raise RuntimeError("Set TWOSIGMA_DATABASE_URL (or use `twosigma db ...`, which starts the embedded server).")
    return settings_url


async def _run_async() -> None:
    engine = create_async_engine(_url(), poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(_configure)
    await engine.dispose()


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
    else:
        asyncio.run(_run_async())


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
