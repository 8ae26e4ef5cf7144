"""Every query of the progress domain. Writes are set-based: one upsert for the item, one for all its ancestors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import (
    CTE,
    Row,
    Select,
    and_,
    case,
    func,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from twosigma.content.models import ContentItem, Module
from twosigma.db.driver import driver_fetch
from twosigma.enrollments.models import CourseEnrollment
from twosigma.enums import EnrollmentStatus
from twosigma.progress.models import UserContentProgress, UserModuleProgress
from twosigma.progress.rollup import ROLL_UP_SQL
from twosigma.users.models import User

UCP = UserContentProgress
UMP = UserModuleProgress


@dataclass(frozen=True)
class ItemPath:
    module_id: int
    ancestors: list[int]  # the item's module first, the root last
    published: bool  # the module and every ancestor are published


# The statements of a progress write are plain SQL run on the session's own asyncpg connection (`driver_fetch`), in
# its transaction: SQLAlchemy's per-statement work (even on cached compiled forms) was most of a write's CPU. The
# bench's raw baseline (bench/raw_app.py) runs these same statements.

# The item's module path to the root (the item's module first), and the transaction-scoped lock that serializes one
# user's writes in one offering (so that each roll-up sees the previous write's item rows): one round trip for both.
LOCATE_AND_LOCK_SQL = """
WITH RECURSIVE path AS (
  SELECT m.id, m.parent_module_id, m.is_published, 0 AS level
  FROM modules m JOIN content_items ci ON ci.module_id = m.id
  WHERE ci.id = $1 AND ci.course_id = $2
  UNION ALL
  SELECT p.id, p.parent_module_id, p.is_published, path.level + 1
  FROM modules p JOIN path ON p.id = path.parent_module_id
)
SELECT array_agg(id ORDER BY level), bool_and(is_published), pg_advisory_xact_lock(hashtextextended($3, 0))
FROM path
"""


def progress_lock_key(user_id: int, offering_id: int) -> str:
    return f"progress:{user_id}:{offering_id}"


async def locate_and_lock(
    session: AsyncSession, item_id: int, course_id: int, *, user_id: int, offering_id: int
) -> ItemPath | None:
    """The item's module path to the root, if the item belongs to `course_id` (one recursive query), with the
    user's write lock in the offering taken by the same statement."""
    (row,) = await driver_fetch(
        session, LOCATE_AND_LOCK_SQL, item_id, course_id, progress_lock_key(user_id, offering_id)
    )
    ids, published = row[0], row[1]
    if not ids:
        return None
    return ItemPath(module_id=ids[0], ancestors=list(ids), published=bool(published))


UPSERT_ITEM_SQL = """
INSERT INTO user_content_progress (user_id, course_offering_id, content_item_id, progress_percent, attempts_count,
  first_started_at, last_interacted_at, completed_at)
VALUES ($1, $2, $3, $4::int, $5, $6::timestamptz, $6::timestamptz, CASE WHEN $4::int = 100 THEN $6::timestamptz END)
ON CONFLICT (user_id, course_offering_id, content_item_id) DO UPDATE SET
  progress_percent = greatest(user_content_progress.progress_percent, excluded.progress_percent),
  attempts_count = user_content_progress.attempts_count + excluded.attempts_count,
  last_interacted_at = excluded.last_interacted_at,
  completed_at = coalesce(user_content_progress.completed_at, excluded.completed_at)
RETURNING content_item_id, progress_percent, attempts_count, first_started_at, last_interacted_at, completed_at
"""


async def upsert_item_progress(
    session: AsyncSession, *, user_id: int, offering_id: int, item_id: int, percent: int, attempt: bool, now: datetime
) -> Mapping[str, Any]:
    """INSERT … ON CONFLICT: never lowers the percent, adds the attempt atomically, stamps completion once (the
    excluded row has a completion time only when this write is 100, so the first 100 wins). The stored row, by
    column name."""
    (row,) = await driver_fetch(
        session, UPSERT_ITEM_SQL, user_id, offering_id, item_id, percent, 1 if attempt else 0, now
    )
    return cast(Mapping[str, Any], row)


async def roll_up(
    session: AsyncSession, *, user_id: int, offering_id: int, course_id: int, path: ItemPath, now: datetime
) -> Sequence[Any]:
    """Recompute and upsert the user's percent for the item's module and every ancestor, in ONE statement:
    (module_id, progress_percent, completed_at) rows.

    A module's percent is the floor of the mean over every item in its published subtree (an unpublished module
    hides its subtree from students, so its items would make 100 unreachable); items without a row count as 0.
    """
    return await driver_fetch(session, ROLL_UP_SQL, user_id, offering_id, path.ancestors, course_id, now)


@dataclass(frozen=True)
class StreakState:
    current_streak_days: int
    last_activity_date: date | None
    time_zone: str


LOCK_USER_SQL = "SELECT current_streak_days, last_activity_date, time_zone FROM users WHERE id = $1 FOR UPDATE"
# As the ORM's flush would: `updated_at` is the column's onupdate.
SET_STREAK_SQL = "UPDATE users SET current_streak_days = $2, last_activity_date = $3, updated_at = now() WHERE id = $1"


async def lock_user_streak(session: AsyncSession, user_id: int) -> StreakState:
    """The user's streak, the row locked until the transaction ends (concurrent writes count one day once)."""
    (row,) = await driver_fetch(session, LOCK_USER_SQL, user_id)
    return StreakState(row[0], row[1], row[2])


async def set_streak(session: AsyncSession, user_id: int, days: int, last: date | None) -> None:
    await driver_fetch(session, SET_STREAK_SQL, user_id, days, last)


# --- Reads -------------------------------------------------------------------------------------------------------


async def item_progress(session: AsyncSession, user_id: int, offering_id: int) -> Sequence[UserContentProgress]:
    stmt = select(UCP).where(UCP.user_id == user_id, UCP.course_offering_id == offering_id)
    return (await session.scalars(stmt)).all()


async def module_completions(session: AsyncSession, user_id: int, offering_id: int) -> dict[int, datetime | None]:
    stmt = select(UMP.module_id, UMP.completed_at).where(UMP.user_id == user_id, UMP.course_offering_id == offering_id)
    return {m: c for m, c in await session.execute(stmt)}


def _visible_items(course_id: int) -> CTE:
    """Ids of the items a student can read: under the root through published modules only."""
    tree = (
        select(Module.id)
        .where(Module.course_id == course_id, Module.parent_module_id.is_(None), Module.is_published)
        .cte("visible_modules", recursive=True)
    )
    child = aliased(Module)
    tree = tree.union_all(select(child.id).join(tree, child.parent_module_id == tree.c.id).where(child.is_published))
    return select(ContentItem.id).join(tree, ContentItem.module_id == tree.c.id).cte("visible_items")


ROSTER_STATUSES = (EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED)


def offering_progress_query(
    offering_id: int, course_id: int
) -> Select[int, int, str, str, EnrollmentStatus, int, int, datetime | None]:
    """One row per ACTIVE/COMPLETED enrolment, with the student's live percent over the readable items."""
    visible = _visible_items(course_id)
    n_items = select(func.count()).select_from(visible).scalar_subquery()
    is_visible = UCP.content_item_id.in_(select(visible.c.id))
    stats = (
        select(
            UCP.user_id.label("user_id"),
            func.coalesce(func.sum(UCP.progress_percent).filter(is_visible), 0).label("total"),
            func.count().filter(and_(is_visible, UCP.progress_percent == 100)).label("done"),
            func.max(UCP.last_interacted_at).label("last_at"),
        )
        .where(UCP.course_offering_id == offering_id)
        .group_by(UCP.user_id)
        .subquery("stats")
    )
    percent = case((n_items > 0, func.coalesce(stats.c.total, 0) // n_items), else_=0)
    return (
        select(
            CourseEnrollment.id,
            User.id,
            User.full_name,
            User.email,
            CourseEnrollment.status,
            percent.label("progress_percent"),
            func.coalesce(stats.c.done, 0).label("completed_items"),
            stats.c.last_at,
        )
        .join(User, User.id == CourseEnrollment.user_id)
        .outerjoin(stats, stats.c.user_id == CourseEnrollment.user_id)
        .where(CourseEnrollment.course_offering_id == offering_id, CourseEnrollment.status.in_(ROSTER_STATUSES))
        .order_by(User.full_name, User.id)
    )


async def visible_item_count(session: AsyncSession, course_id: int) -> int:
    visible = _visible_items(course_id)
    return int(await session.scalar(select(func.count()).select_from(visible)) or 0)


async def offering_progress_totals(session: AsyncSession, offering_id: int, course_id: int) -> tuple[int, float]:
    """(number of listed students, their mean percent) over all pages."""
    sub = offering_progress_query(offering_id, course_id).order_by(None).subquery()
    total, mean = (await session.execute(select(func.count(), func.avg(sub.c.progress_percent)))).one()
    return int(total or 0), float(mean or 0)


async def offering_progress_page(
    session: AsyncSession, offering_id: int, course_id: int, *, limit: int, offset: int
) -> Sequence[Row[int, int, str, str, EnrollmentStatus, int, int, datetime | None]]:
    stmt = offering_progress_query(offering_id, course_id).limit(limit).offset(offset)
    return (await session.execute(stmt)).all()
