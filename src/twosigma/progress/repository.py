"""Every query of the progress domain. Writes are set-based: one upsert for the item, one for all its ancestors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    CTE,
    Integer,
    Row,
    Select,
    String,
    Table,
    and_,
    bindparam,
    case,
    func,
    literal,
    select,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.dialects.postgresql import insert as pg_insert
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


# The statements of a progress write are built once, with bound parameters: building these CTEs cost SQLAlchemy
# several times more CPU than executing their cached compiled forms (two fifths of a write's CPU in the bench).


def _locate_statement() -> Select[Any]:
    path = (
        select(Module.id, Module.parent_module_id, Module.is_published, literal(0, Integer).label("level"))
        .join(ContentItem, ContentItem.module_id == Module.id)
        .where(ContentItem.id == bindparam("item_id"), ContentItem.course_id == bindparam("course_id"))
        .cte("path", recursive=True)
    )
    parent = aliased(Module)
    path = path.union_all(
        select(parent.id, parent.parent_module_id, parent.is_published, path.c.level + 1).join(
            path, parent.id == path.c.parent_module_id
        )
    )
    return select(func.array_agg(aggregate_order_by(path.c.id, path.c.level.asc())), func.bool_and(path.c.is_published))


_LOCATE = _locate_statement()


async def locate_item(session: AsyncSession, item_id: int, course_id: int) -> ItemPath | None:
    """The item's module path to the root, if the item belongs to `course_id` (one recursive query)."""
    ids, published = (await session.execute(_LOCATE, {"item_id": item_id, "course_id": course_id})).one()
    if not ids:
        return None
    return ItemPath(module_id=ids[0], ancestors=list(ids), published=bool(published))


_LOCK_USER_OFFERING = select(
    func.pg_advisory_xact_lock(func.hashtextextended(bindparam("lock_key", type_=String), literal(0)))
)


async def lock_user_offering(session: AsyncSession, user_id: int, offering_id: int) -> None:
    """Serialize one user's progress writes in one offering, so each roll-up sees the previous one's item rows."""
    await session.execute(_LOCK_USER_OFFERING, {"lock_key": f"progress:{user_id}:{offering_id}"})


def _upsert_item_statement() -> Any:
    # On the Table, not the mapped class: an ORM insert executed with a parameter dict is a bulk insert.
    table = cast(Table, UCP.__table__)
    stmt = pg_insert(table).values(
        user_id=bindparam("user_id"),
        course_offering_id=bindparam("offering_id"),
        content_item_id=bindparam("item_id"),
        progress_percent=bindparam("percent"),
        attempts_count=bindparam("attempts"),
        first_started_at=bindparam("now"),
        last_interacted_at=bindparam("now"),
        completed_at=bindparam("completed_at"),
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.user_id, table.c.course_offering_id, table.c.content_item_id],
        set_={
            "progress_percent": func.greatest(table.c.progress_percent, stmt.excluded.progress_percent),
            "attempts_count": table.c.attempts_count + stmt.excluded.attempts_count,
            "last_interacted_at": stmt.excluded.last_interacted_at,
            # excluded.completed_at is set only when this write is 100, so the first 100 wins.
            "completed_at": func.coalesce(table.c.completed_at, stmt.excluded.completed_at),
        },
    )
    return stmt.returning(
        table.c.content_item_id,
        table.c.progress_percent,
        table.c.attempts_count,
        table.c.first_started_at,
        table.c.last_interacted_at,
        table.c.completed_at,
    )


_UPSERT_ITEM = _upsert_item_statement()


async def upsert_item_progress(
    session: AsyncSession, *, user_id: int, offering_id: int, item_id: int, percent: int, attempt: bool, now: datetime
) -> Row[int, int, int, datetime, datetime, datetime | None]:
    """INSERT … ON CONFLICT: never lowers the percent, adds the attempt atomically, stamps completion once."""
    params = {
        "user_id": user_id,
        "offering_id": offering_id,
        "item_id": item_id,
        "percent": percent,
        "attempts": 1 if attempt else 0,
        "now": now,
        "completed_at": now if percent == 100 else None,
    }
    row: Row[int, int, int, datetime, datetime, datetime | None] = (await session.execute(_UPSERT_ITEM, params)).one()
    return row


async def roll_up(
    session: AsyncSession, *, user_id: int, offering_id: int, course_id: int, path: ItemPath, now: datetime
) -> Sequence[Any]:
    """Recompute and upsert the user's percent for the item's module and every ancestor, in ONE statement:
    (module_id, progress_percent, completed_at) rows.

    A module's percent is the floor of the mean over every item in its published subtree (an unpublished module
    hides its subtree from students, so its items would make 100 unreachable); items without a row count as 0.
    """
    return await driver_fetch(session, ROLL_UP_SQL, user_id, offering_id, path.ancestors, course_id, now)


_LOCK_USER = (
    select(User).where(User.id == bindparam("user_id")).with_for_update().execution_options(populate_existing=True)
)


async def lock_user(session: AsyncSession, user_id: int) -> User:
    return (await session.scalars(_LOCK_USER, {"user_id": user_id})).one()


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
