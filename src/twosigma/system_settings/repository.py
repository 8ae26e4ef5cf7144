"""Every query on system_settings."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.system_settings.models import SystemSetting


async def get(session: AsyncSession, key: str) -> SystemSetting | None:
    result = await session.scalars(select(SystemSetting).where(SystemSetting.setting_key == key))
    return result.one_or_none()


async def list_all(session: AsyncSession) -> Sequence[SystemSetting]:
    return (await session.scalars(select(SystemSetting).order_by(SystemSetting.setting_key))).all()


async def list_encrypted_for_update(session: AsyncSession) -> Sequence[SystemSetting]:
    stmt = select(SystemSetting).where(SystemSetting.is_encrypted).order_by(SystemSetting.id).with_for_update()
    return (await session.scalars(stmt)).all()


async def upsert(
    session: AsyncSession, *, key: str, value: str, is_encrypted: bool, description: str | None
) -> SystemSetting:
    """Insert or replace in one statement, so two concurrent writers of a new key cannot collide."""
    stmt = insert(SystemSetting).values(
        setting_key=key, setting_value=value, is_encrypted=is_encrypted, description=description
    )
    changes = {"setting_value": value, "is_encrypted": is_encrypted, "updated_at": func.now()}
    if description is not None:
        changes["description"] = description
    returning = stmt.on_conflict_do_update(index_elements=[SystemSetting.setting_key], set_=changes).returning(
        SystemSetting
    )
    result = await session.scalars(returning, execution_options={"populate_existing": True})
    row: SystemSetting = result.one()
    return row


async def remove(session: AsyncSession, key: str) -> bool:
    result = await session.execute(
        delete(SystemSetting).where(SystemSetting.setting_key == key).returning(SystemSetting.id)
    )
    return result.first() is not None


async def get_many(session: AsyncSession, keys: Sequence[str]) -> Sequence[SystemSetting]:
    return (await session.scalars(select(SystemSetting).where(SystemSetting.setting_key.in_(keys)))).all()
