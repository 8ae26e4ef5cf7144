"""Every query of the progress domain. Writes are set-based: one upsert for the item, one for all its ancestors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import (
    CTE,
    DateTime,
    Integer,
    Row,
    Select,
    String,
    Table,
    and_,
    bindparam,
    case,
    false,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from twosigma.content.models import ContentItem, Module
from twosigma.courses.models import CourseOffering
from twosigma.enrollments.models import CourseEnrollment
from twosigma.enums import EnrollmentStatus
from twosigma.progress.models import UserContentProgress, UserModuleProgress
from twosigma.progress.rollup import ROLL_UP
from twosigma.taxonomy.models import ContentType
from twosigma.users.models import User

UCP = UserContentProgress
UMP = UserModuleProgress


@dataclass(frozen=True)
class ItemPath:
    module_id: int
    ancestors: list[int]  # the item's module first, the root last
    published: bool  # the module and every ancestor are published
    gradable: bool  # the item's content type is gradable: its progress follows its grade (assessments)


# The statements of a progress write are Core against the tables, built once with bound parameters (building a
# statement costs SQLAlchemy more than executing its cached compiled form); the bench's raw baseline
# (bench/raw_app.py) runs these same statements, compiled.
_MODULES = cast(Table, Module.__table__)
_ITEMS = cast(Table, ContentItem.__table__)
_ITEM_PROGRESS = cast(Table, UCP.__table__)
_TYPES = cast(Table, ContentType.__table__)

# The item's module path to the root (the item's module first), whether its type is gradable, and the
# transaction-scoped lock that serializes one user's writes in one offering (so that each roll-up sees the previous
# write's item rows): one round trip for all three.
_PATH = (
    select(
        _MODULES.c.id,
        _MODULES.c.parent_module_id,
        _MODULES.c.is_published,
        literal_column("0", Integer).label("level"),
    )
    .join(_ITEMS, _ITEMS.c.module_id == _MODULES.c.id)
    .where(_ITEMS.c.id == bindparam("item_id", type_=Integer), _ITEMS.c.course_id == bindparam("course_id"))
    .cte("path", recursive=True)
)
_PARENT = _MODULES.alias("parent")
_PATH = _PATH.union_all(
    select(_PARENT.c.id, _PARENT.c.parent_module_id, _PARENT.c.is_published, _PATH.c.level + literal_column("1")).join(
        _PATH, _PARENT.c.id == _PATH.c.parent_module_id
    )
)
_GRADABLE = (
    select(_TYPES.c.gradable)
    .join(_ITEMS, _ITEMS.c.content_type_id == _TYPES.c.id)
    .where(_ITEMS.c.id == bindparam("item_id", type_=Integer))
    .scalar_subquery()
)
LOCATE_AND_LOCK = select(
    func.array_agg(aggregate_order_by(_PATH.c.id, _PATH.c.level)).label("ancestors"),
    func.bool_and(_PATH.c.is_published).label("published"),
    func.coalesce(_GRADABLE, false()).label("gradable"),
    func.pg_advisory_xact_lock(func.hashtextextended(bindparam("lock_key", type_=String), literal_column("0"))).label(
        "locked"
    ),
)


def progress_lock_key(user_id: int, offering_id: int) -> str:
    return f"progress:{user_id}:{offering_id}"


async def locate_and_lock(
    session: AsyncSession, item_id: int, course_id: int, *, user_id: int, offering_id: int
) -> ItemPath | None:
    """The item's module path to the root, if the item belongs to `course_id` (one recursive query), with the
    user's write lock in the offering taken by the same statement."""
    params = {"item_id": item_id, "course_id": course_id, "lock_key": progress_lock_key(user_id, offering_id)}
    row = (await session.execute(LOCATE_AND_LOCK, params)).one()
    if not row.ancestors:
        return None
    return ItemPath(
        module_id=row.ancestors[0],
        ancestors=list(row.ancestors),
        published=bool(row.published),
        gradable=bool(row.gradable),
    )


# INSERT … ON CONFLICT: never lowers the percent, adds the attempt atomically, stamps completion once (the excluded
# row has a completion time only when this write is 100, so the first 100 wins).
_NOW = bindparam("now", type_=DateTime(timezone=True))
_PERCENT = bindparam("percent", type_=Integer)
_UPSERT_ITEM = insert(_ITEM_PROGRESS).values(
    user_id=bindparam("user_id"),
    course_offering_id=bindparam("offering_id"),
    content_item_id=bindparam("item_id"),
    progress_percent=_PERCENT,
    attempts_count=bindparam("attempts", type_=Integer),
    first_started_at=_NOW,
    last_interacted_at=_NOW,
    completed_at=case((_PERCENT == literal_column("100"), _NOW)),
)
UPSERT_ITEM = _UPSERT_ITEM.on_conflict_do_update(
    index_elements=[_ITEM_PROGRESS.c.user_id, _ITEM_PROGRESS.c.course_offering_id, _ITEM_PROGRESS.c.content_item_id],
    set_={
        "progress_percent": func.greatest(_ITEM_PROGRESS.c.progress_percent, _UPSERT_ITEM.excluded.progress_percent),
        "attempts_count": _ITEM_PROGRESS.c.attempts_count + _UPSERT_ITEM.excluded.attempts_count,
        "last_interacted_at": _UPSERT_ITEM.excluded.last_interacted_at,
        "completed_at": func.coalesce(_ITEM_PROGRESS.c.completed_at, _UPSERT_ITEM.excluded.completed_at),
    },
).returning(
    _ITEM_PROGRESS.c.content_item_id,
    _ITEM_PROGRESS.c.progress_percent,
    _ITEM_PROGRESS.c.attempts_count,
    _ITEM_PROGRESS.c.first_started_at,
    _ITEM_PROGRESS.c.last_interacted_at,
    _ITEM_PROGRESS.c.completed_at,
)


@dataclass(frozen=True)
class StoredItemProgress:
    content_item_id: int
    progress_percent: int
    attempts_count: int
    first_started_at: datetime
    last_interacted_at: datetime
    completed_at: datetime | None


async def upsert_item_progress(
    session: AsyncSession, *, user_id: int, offering_id: int, item_id: int, percent: int, attempt: bool, now: datetime
) -> StoredItemProgress:
    """The item's progress after this write (see UPSERT_ITEM), as stored."""
    params = {
        "user_id": user_id,
        "offering_id": offering_id,
        "item_id": item_id,
        "percent": percent,
        "attempts": 1 if attempt else 0,
        "now": now,
    }
    row = (await session.execute(UPSERT_ITEM, params)).one()
    return StoredItemProgress(
        content_item_id=row.content_item_id,
        progress_percent=row.progress_percent,
        attempts_count=row.attempts_count,
        first_started_at=row.first_started_at,
        last_interacted_at=row.last_interacted_at,
        completed_at=row.completed_at,
    )


@dataclass(frozen=True)
class ModulePercent:
    module_id: int
    progress_percent: int
    completed_at: datetime | None


async def roll_up(
    session: AsyncSession, *, user_id: int, offering_id: int, course_id: int, path: ItemPath, now: datetime
) -> list[ModulePercent]:
    """Recompute and upsert the user's percent for the item's module and every ancestor, in ONE statement
    (progress/rollup.py), and return them.

    A module's percent is the floor of the mean over every item in its published subtree (an unpublished module
    hides its subtree from students, so its items would make 100 unreachable); items without a row count as 0.
    """
    params = {
        "user_id": user_id,
        "offering_id": offering_id,
        "ancestors": path.ancestors,
        "course_id": course_id,
        "now": now,
    }
    rows = (await session.execute(ROLL_UP, params)).all()
    return [ModulePercent(r.module_id, r.progress_percent, r.completed_at) for r in rows]


# --- Reads -------------------------------------------------------------------------------------------------------


async def item_progress(session: AsyncSession, user_id: int, offering_id: int) -> Sequence[UserContentProgress]:
    stmt = select(UCP).where(UCP.user_id == user_id, UCP.course_offering_id == offering_id)
    return (await session.scalars(stmt)).all()


async def module_completions(session: AsyncSession, user_id: int, offering_id: int) -> dict[int, datetime | None]:
    stmt = select(UMP.module_id, UMP.completed_at).where(UMP.user_id == user_id, UMP.course_offering_id == offering_id)
    return {row.module_id: row.completed_at for row in await session.execute(stmt)}


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
            CourseEnrollment.id.label("enrollment_id"),
            User.id.label("user_id"),
            User.full_name.label("full_name"),
            User.email.label("email"),
            CourseEnrollment.status.label("enrollment_status"),
            percent.label("progress_percent"),
            func.coalesce(stats.c.done, 0).label("completed_items"),
            stats.c.last_at.label("last_activity_at"),
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
    stmt = select(func.count().label("total"), func.avg(sub.c.progress_percent).label("mean"))
    row = (await session.execute(stmt)).one()
    return int(row.total or 0), float(row.mean or 0)


async def offering_progress_page(
    session: AsyncSession, offering_id: int, course_id: int, *, limit: int, offset: int
) -> Sequence[Row[int, int, str, str, EnrollmentStatus, int, int, datetime | None]]:
    stmt = offering_progress_query(offering_id, course_id).limit(limit).offset(offset)
    return (await session.execute(stmt)).all()


# --- What the tutor knows of a student's progress ----------------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    """A student's progress in a course (their ACTIVE, else most recent COMPLETED, enrolment) and in one module."""

    offering_id: int
    course_percent: int  # the root module's rolled-up percent, as of the student's last progress write
    module_items: int  # the module's own items
    module_completed: int  # of them, at 100 %
    remaining_titles: list[str]  # the first few not completed, in module order


async def standing(
    session: AsyncSession, *, user_id: int, course_id: int, module_id: int, titles: int
) -> Standing | None:
    """One statement: the enrolment it reads (None without an ACTIVE or COMPLETED one), the course percent, the
    module's item counts and the titles of up to `titles` items not yet completed."""
    enrolment = (
        select(CourseEnrollment.course_offering_id.label("offering_id"))
        .join(CourseOffering, CourseOffering.id == CourseEnrollment.course_offering_id)
        .where(
            CourseEnrollment.user_id == user_id,
            CourseOffering.course_id == course_id,
            CourseEnrollment.status.in_(ROSTER_STATUSES),
        )
        .order_by((CourseEnrollment.status == EnrollmentStatus.ACTIVE).desc(), CourseEnrollment.enrolled_at.desc())
        .limit(1)
        .cte("enrolment")
    )
    course_percent = (
        select(UMP.progress_percent)
        .join(Module, Module.id == UMP.module_id)
        .where(
            UMP.user_id == user_id,
            UMP.course_offering_id == enrolment.c.offering_id,
            Module.course_id == course_id,
            Module.parent_module_id.is_(None),
        )
        .limit(1)
        .scalar_subquery()
    )
    done = (
        select(UCP.content_item_id)
        .where(
            UCP.user_id == user_id,
            UCP.course_offering_id == enrolment.c.offering_id,
            UCP.content_item_id == ContentItem.id,
            UCP.progress_percent == 100,
        )
        .exists()
    )
    module_items = select(func.count()).select_from(ContentItem).where(ContentItem.module_id == module_id)
    completed = module_items.where(done)
    remaining = (
        select(ContentItem.title)
        .where(ContentItem.module_id == module_id, ~done)
        .order_by(ContentItem.sequence_index, ContentItem.id)
        .limit(titles)
    )
    stmt = select(
        enrolment.c.offering_id,
        func.coalesce(course_percent, 0).label("course_percent"),
        module_items.scalar_subquery().label("module_items"),
        completed.scalar_subquery().label("module_completed"),
        func.array(remaining.scalar_subquery()).label("remaining_titles"),
    ).select_from(enrolment)
    row = (await session.execute(stmt)).one_or_none()
    if row is None:
        return None
    return Standing(
        offering_id=row.offering_id,
        course_percent=int(row.course_percent),
        module_items=int(row.module_items),
        module_completed=int(row.module_completed),
        remaining_titles=list(row.remaining_titles or []),
    )
