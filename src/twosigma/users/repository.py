"""Every query of the users domain."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import bindparam, delete, exists, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.taxonomy.models import Subject
from twosigma.users.models import User, UserProfile, UserSubjectPreference


async def get_by_email(session: AsyncSession, email: str) -> User | None:
    """Emails are stored lowercased; `lower()` also finds rows written before that rule."""
    result = await session.scalars(select(User).where(func.lower(User.email) == email.lower()).limit(1))
    return result.first()


async def email_exists(session: AsyncSession, email: str) -> bool:
    return bool(await session.scalar(select(exists().where(func.lower(User.email) == email.lower()))))


async def get_profile(session: AsyncSession, user_id: int) -> UserProfile | None:
    result = await session.scalars(select(UserProfile).where(UserProfile.user_id == user_id))
    return result.first()


async def unknown_subject_ids(session: AsyncSession, subject_ids: Iterable[int]) -> list[int]:
    wanted = set(subject_ids)
    if not wanted:
        return []
    found = set(await session.scalars(select(Subject.id).where(Subject.id.in_(wanted))))
    return sorted(wanted - found)


async def subject_ids_of(session: AsyncSession, user_id: int) -> list[int]:
    result = await session.scalars(
        select(UserSubjectPreference.subject_id)
        .where(UserSubjectPreference.user_id == user_id)
        .order_by(UserSubjectPreference.subject_id)
    )
    return list(result)


async def replace_subject_preferences(session: AsyncSession, user_id: int, subject_ids: Iterable[int]) -> None:
    """Make the user's preference set exactly `subject_ids`; concurrent writers never collide on the unique pair."""
    wanted = sorted(set(subject_ids))
    stmt = delete(UserSubjectPreference).where(UserSubjectPreference.user_id == user_id)
    if wanted:
        stmt = stmt.where(UserSubjectPreference.subject_id.not_in(wanted))
    await session.execute(stmt, execution_options={"synchronize_session": False})
    if wanted:
        await session.execute(
            insert(UserSubjectPreference)
            .values([{"user_id": user_id, "subject_id": s} for s in wanted])
            .on_conflict_do_nothing(index_elements=["user_id", "subject_id"])
        )


# --- The streak ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StreakState:
    current_streak_days: int
    last_activity_date: date | None
    time_zone: str


# Built once, with bound parameters: every progress write runs the lock.
LOCK_STREAK = (
    select(User.current_streak_days, User.last_activity_date, User.time_zone)
    .where(User.id == bindparam("user_id"))
    .with_for_update()
)
# An UPDATE of the users table: `updated_at`'s onupdate applies, as for any ORM flush of the row.
SET_STREAK = (
    update(User)
    .where(User.id == bindparam("user_id"))
    .values(current_streak_days=bindparam("days"), last_activity_date=bindparam("last"))
    .execution_options(synchronize_session=False)
)


async def lock_streak(session: AsyncSession, user_id: int) -> StreakState:
    """The user's streak, the row locked until the transaction ends."""
    row = (await session.execute(LOCK_STREAK, {"user_id": user_id})).one()
    return StreakState(row.current_streak_days, row.last_activity_date, row.time_zone)


async def set_streak(session: AsyncSession, user_id: int, days: int, last: date) -> None:
    await session.execute(SET_STREAK, {"user_id": user_id, "days": days, "last": last})


async def delete_personal_rows(session: AsyncSession, user_id: int) -> None:
    """The onboarding profile and the subject preferences of an account being erased."""
    await session.execute(delete(UserProfile).where(UserProfile.user_id == user_id))
    await session.execute(delete(UserSubjectPreference).where(UserSubjectPreference.user_id == user_id))
