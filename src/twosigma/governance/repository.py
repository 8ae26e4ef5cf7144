"""Every query of tutor governance: the policies, the cost ledger and what the ledger is read for."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Row, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.content.models import ContentItem, Module
from twosigma.courses.models import Course
from twosigma.governance.models import CourseTutorPolicy, TutorUsage, UniversityTutorPolicy

# --- Policies ------------------------------------------------------------------------------------------------------


async def university_policy(session: AsyncSession, university_id: int) -> UniversityTutorPolicy | None:
    return await session.get(UniversityTutorPolicy, university_id)


async def course_policy(session: AsyncSession, course_id: int) -> CourseTutorPolicy | None:
    return await session.get(CourseTutorPolicy, course_id)


async def policies_of(
    session: AsyncSession, university_id: int | None, course_id: int | None
) -> tuple[UniversityTutorPolicy | None, CourseTutorPolicy | None]:
    """Both levels in one statement (every turn and every course tree asks): one row, NULLs for a level not set."""
    if university_id is None:
        return None, None
    anchor = select(literal(1).label("one")).subquery("anchor")
    stmt = (
        select(UniversityTutorPolicy, CourseTutorPolicy)
        .select_from(anchor)
        .outerjoin(UniversityTutorPolicy, UniversityTutorPolicy.university_id == university_id)
        .outerjoin(CourseTutorPolicy, CourseTutorPolicy.course_id == (course_id if course_id is not None else -1))
    )
    row = (await session.execute(stmt)).one()
    return row[0], row[1]


async def course_of_item(session: AsyncSession, content_item_id: int) -> Row[int, int] | None:
    """(course_id, university_id) of a content item's course, or None when the item is gone."""
    stmt = (
        select(Course.id.label("course_id"), Course.university_id)
        .join(Module, Module.course_id == Course.id)
        .join(ContentItem, ContentItem.module_id == Module.id)
        .where(ContentItem.id == content_item_id)
    )
    return (await session.execute(stmt)).one_or_none()


# --- The ledger ----------------------------------------------------------------------------------------------------


async def add_usage(session: AsyncSession, usage: TutorUsage) -> None:
    session.add(usage)
    await session.flush()


async def spent_by_user(session: AsyncSession, user_id: int, since: datetime) -> float:
    stmt = select(func.coalesce(func.sum(TutorUsage.cost_usd), 0.0)).where(
        TutorUsage.user_id == user_id, TutorUsage.created_at >= since
    )
    return float((await session.execute(stmt)).scalar_one())


async def spent_by_course(session: AsyncSession, course_id: int, since: datetime, until: datetime) -> float:
    stmt = select(func.coalesce(func.sum(TutorUsage.cost_usd), 0.0)).where(
        TutorUsage.course_id == course_id, TutorUsage.created_at >= since, TutorUsage.created_at < until
    )
    return float((await session.execute(stmt)).scalar_one())


async def spent_by_university(session: AsyncSession, university_id: int, since: datetime, until: datetime) -> float:
    stmt = select(func.coalesce(func.sum(TutorUsage.cost_usd), 0.0)).where(
        TutorUsage.university_id == university_id, TutorUsage.created_at >= since, TutorUsage.created_at < until
    )
    return float((await session.execute(stmt)).scalar_one())
