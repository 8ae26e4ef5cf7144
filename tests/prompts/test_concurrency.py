"""Concurrent writers on separate connections: versions stay dense and unique, labels stay unique."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from tests.fixtures.prompts import ADMIN
from twosigma.prompts.models import Prompt, PromptLabelEvent
from twosigma.prompts.schemas import PromptCreate
from twosigma.prompts.services import changes as service

NAME = "concurrency/probe"


@pytest.fixture
async def sessions(db_engine: AsyncEngine) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Real connections (one per session, no pool), committed for real; the rows are deleted afterwards."""
    engine = create_async_engine(db_engine.url, poolclass=NullPool)
    maker = async_sessionmaker(engine, expire_on_commit=False)
    try:
        yield maker
    finally:
        async with maker() as session:
            await session.execute(delete(Prompt).where(Prompt.name == NAME))
            await session.execute(delete(PromptLabelEvent).where(PromptLabelEvent.prompt_name == NAME))
            await session.commit()
        await engine.dispose()


async def _create(maker: async_sessionmaker[AsyncSession], text: str) -> int:
    async with maker() as session:
        created = await service.create_prompt(session, ADMIN, PromptCreate(name=NAME, prompt=text))
        await session.commit()
        return created.version


class TestConcurrentWrites:
    async def test_fifty_parallel_creates_get_versions_one_to_fifty_once_each(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        versions = await asyncio.gather(*(_create(sessions, f"v{i}") for i in range(50)))
        assert sorted(versions) == list(range(1, 51))
        async with sessions() as session:
            stored = (await session.scalars(select(Prompt.version).where(Prompt.name == NAME))).all()
            latest = (
                await session.scalars(
                    select(Prompt.version).where(Prompt.name == NAME, Prompt.labels.contains(["latest"]))
                )
            ).all()
        assert sorted(stored) == list(range(1, 51))
        assert latest == [50]

    async def test_parallel_label_moves_leave_exactly_one_holder(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        for i in range(10):
            await _create(sessions, f"v{i}")

        async def move(version: int) -> None:
            async with sessions() as session:
                await service.set_labels(session, ADMIN, NAME, version, ["production"])
                await session.commit()

        await asyncio.gather(*(move(v) for v in range(1, 11)))
        async with sessions() as session:
            holders = (
                await session.scalars(
                    select(Prompt.version).where(Prompt.name == NAME, Prompt.labels.contains(["production"]))
                )
            ).all()
            events = (
                await session.execute(
                    select(PromptLabelEvent.from_version, PromptLabelEvent.to_version)
                    .where(PromptLabelEvent.prompt_name == NAME, PromptLabelEvent.label == "production")
                    .order_by(PromptLabelEvent.id)
                )
            ).all()
            count = await session.scalar(
                select(func.count())
                .select_from(PromptLabelEvent)
                .where(PromptLabelEvent.prompt_name == NAME, PromptLabelEvent.label == "production")
            )
        assert len(holders) == 1
        assert count == 10
        # The moves form one unbroken chain: each starts where the previous one ended.
        assert events[0][0] is None
        assert all(events[i][0] == events[i - 1][1] for i in range(1, len(events)))
        assert events[-1][1] == holders[0]
