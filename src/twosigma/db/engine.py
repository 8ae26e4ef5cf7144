"""Async engine and session factory."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from twosigma.config import Settings


def make_engine(url: str, settings: Settings) -> AsyncEngine:
    return create_async_engine(
        url,
        pool_pre_ping=True,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
        connect_args={
            "timeout": 10,
            "server_settings": {
                "application_name": "twosigma",
                "statement_timeout": str(settings.db_statement_timeout_ms),
            },
        },
    )


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@dataclass
class Database:
    """What a running app knows about its database: the engine and how to open sessions."""

    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]

    @classmethod
    def from_url(cls, url: str, settings: Settings) -> Database:
        engine = make_engine(url, settings)
        return cls(engine=engine, sessionmaker=make_sessionmaker(engine))

    async def dispose(self) -> None:
        await self.engine.dispose()
