from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.api_keys.models import ApiKey


async def by_public_key(session: AsyncSession, public_key: str) -> ApiKey | None:
    return (await session.scalars(select(ApiKey).where(ApiKey.public_key == public_key))).first()


def list_stmt() -> Select[Any]:
    return select(ApiKey).order_by(ApiKey.id.desc())


async def touch(session: AsyncSession, key_id: int, at: datetime) -> None:
    await session.execute(
        update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=at).execution_options(synchronize_session=False)
    )


async def detach_creator(session: AsyncSession, user_id: int) -> None:
    await session.execute(
        update(ApiKey).where(ApiKey.created_by == user_id).values(created_by=None),
        execution_options={"synchronize_session": False},
    )
