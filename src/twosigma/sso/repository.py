"""Every query of the sso domain."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.enums import UserRole
from twosigma.sso.models import SsoExchangeCode, SsoIdentity, SsoLoginState, SsoProvider, UniversityAccessPolicy
from twosigma.tenancy.models import Country, University, UserUniversityRole


async def get_provider(session: AsyncSession, university_id: int) -> SsoProvider | None:
    result = await session.scalars(select(SsoProvider).where(SsoProvider.university_id == university_id))
    return result.first()


async def all_providers(session: AsyncSession, *, for_update: bool) -> Sequence[SsoProvider]:
    stmt = select(SsoProvider).order_by(SsoProvider.university_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.scalars(stmt)).all()


async def universities_with_provider(
    session: AsyncSession, short_code: str, country_code: str | None
) -> Sequence[University]:
    """Active universities of that short code (case-insensitive), in that country if given, with an enabled
    provider."""
    stmt = (
        select(University)
        .join(SsoProvider, SsoProvider.university_id == University.id)
        .where(
            func.lower(University.short_code) == short_code.lower(),
            University.is_active.is_(True),
            SsoProvider.enabled.is_(True),
        )
        .order_by(University.id)
    )
    if country_code is not None:
        stmt = stmt.join(Country, Country.id == University.country_id).where(Country.code == country_code.upper())
    return (await session.scalars(stmt)).all()


async def get_policy(session: AsyncSession, university_id: int) -> UniversityAccessPolicy | None:
    return await session.get(UniversityAccessPolicy, university_id)


async def sso_required_universities(session: AsyncSession, user_id: int) -> Sequence[University]:
    """The universities where the user holds a role, that require single sign-on and have an enabled provider."""
    result = await session.scalars(
        select(University)
        .join(UniversityAccessPolicy, UniversityAccessPolicy.university_id == University.id)
        .join(SsoProvider, SsoProvider.university_id == University.id)
        .where(
            UniversityAccessPolicy.sso_required.is_(True),
            SsoProvider.enabled.is_(True),
            University.id.in_(select(UserUniversityRole.university_id).where(UserUniversityRole.user_id == user_id)),
        )
        .order_by(University.id)
    )
    return result.all()


def password_bound_member_ids(university_id: int) -> Select[int]:
    """The users `sso_required` in this university binds: its role holders, platform admins excepted."""
    platform_admins = select(UserUniversityRole.user_id).where(UserUniversityRole.role == UserRole.PLATFORM_ADMIN)
    return select(UserUniversityRole.user_id).where(
        UserUniversityRole.university_id == university_id, UserUniversityRole.user_id.not_in(platform_admins)
    )


async def add_state(session: AsyncSession, row: SsoLoginState, now: datetime) -> None:
    """Store a sign-in in flight; those that expired unused go at the same time (the table stays small)."""
    await session.execute(
        delete(SsoLoginState).where(SsoLoginState.expires_at < now), execution_options={"synchronize_session": False}
    )
    session.add(row)
    await session.flush()


async def take_state(session: AsyncSession, state_hash: str) -> SsoLoginState | None:
    """Delete and return the state: whoever deletes it is the one callback that may use it."""
    result = await session.execute(
        delete(SsoLoginState).where(SsoLoginState.state_hash == state_hash).returning(SsoLoginState),
        execution_options={"synchronize_session": False},
    )
    return result.scalars().first()


async def add_code(session: AsyncSession, row: SsoExchangeCode, now: datetime) -> None:
    await session.execute(
        delete(SsoExchangeCode).where(SsoExchangeCode.expires_at < now),
        execution_options={"synchronize_session": False},
    )
    session.add(row)
    await session.flush()


async def take_code(session: AsyncSession, code_hash: str) -> SsoExchangeCode | None:
    result = await session.execute(
        delete(SsoExchangeCode).where(SsoExchangeCode.code_hash == code_hash).returning(SsoExchangeCode),
        execution_options={"synchronize_session": False},
    )
    return result.scalars().first()


async def get_identity(session: AsyncSession, issuer: str, subject: str) -> SsoIdentity | None:
    result = await session.scalars(
        select(SsoIdentity).where(SsoIdentity.issuer == issuer, SsoIdentity.subject == subject)
    )
    return result.first()


async def add(session: AsyncSession, row: object) -> None:
    session.add(row)
    await session.flush()


async def delete_row(session: AsyncSession, row: object) -> None:
    await session.delete(row)
    await session.flush()


async def erase_user(session: AsyncSession, user_id: int) -> None:
    await session.execute(delete(SsoExchangeCode).where(SsoExchangeCode.user_id == user_id))
    await session.execute(delete(SsoIdentity).where(SsoIdentity.user_id == user_id))


async def chat_retention(session: AsyncSession) -> Sequence[tuple[int, int]]:
    """(university id, days) of every university that set a chat retention."""
    rows = await session.execute(
        select(UniversityAccessPolicy.university_id, UniversityAccessPolicy.chat_retention_days)
        .where(UniversityAccessPolicy.chat_retention_days.is_not(None))
        .order_by(UniversityAccessPolicy.university_id)
    )
    return [(row.university_id, int(row.chat_retention_days)) for row in rows]
