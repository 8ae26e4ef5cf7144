"""Every query on refresh tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.auth.models import AccountToken, RefreshToken


async def lock_by_jti(session: AsyncSession, jti: str) -> RefreshToken | None:
    """The token row, locked until the transaction ends: concurrent refreshes of one token queue up here."""
    result = await session.scalars(
        select(RefreshToken).where(RefreshToken.jti == jti).with_for_update().execution_options(populate_existing=True)
    )
    return result.first()


async def get_by_jti(session: AsyncSession, jti: str) -> RefreshToken | None:
    return (await session.scalars(select(RefreshToken).where(RefreshToken.jti == jti))).first()


async def revoke_family(session: AsyncSession, family_id: str, at: datetime) -> int:
    result = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=at),
        execution_options={"synchronize_session": "fetch"},
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def revoke_all_of_user(session: AsyncSession, user_id: int, at: datetime) -> int:
    result = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=at),
        execution_options={"synchronize_session": "fetch"},
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def revoke_all_of_users(session: AsyncSession, user_ids: Select[int], at: datetime) -> int:
    """`revoke_all_of_user` for every user `user_ids` selects, in one statement."""
    result = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id.in_(user_ids), RefreshToken.revoked_at.is_(None))
        .values(revoked_at=at),
        execution_options={"synchronize_session": False},
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def lock_account_token(session: AsyncSession, token_hash: str) -> AccountToken | None:
    """The token's row, locked until the transaction ends: two uses of one token queue here, and one wins."""
    result = await session.scalars(
        select(AccountToken)
        .where(AccountToken.token_hash == token_hash)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return result.first()


async def erase_user(session: AsyncSession, user_id: int) -> list[str]:
    """Delete the user's refresh tokens and mailed tokens; the addresses those tokens were mailed to."""
    addresses = await session.scalars(select(AccountToken.email).where(AccountToken.user_id == user_id).distinct())
    found = list(addresses)
    await session.execute(delete(AccountToken).where(AccountToken.user_id == user_id))
    await session.execute(delete(RefreshToken).where(RefreshToken.user_id == user_id))
    return found
