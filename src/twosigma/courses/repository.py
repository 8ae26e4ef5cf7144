"""Every query of the courses domain (courses, subject links, prerequisites, offerings)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, bindparam, delete, exists, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from twosigma.courses.models import Course, CourseOffering, CoursePrerequisite, CourseSubject
from twosigma.courses.schemas import CourseSort
from twosigma.enums import CourseLevel, Visibility
from twosigma.taxonomy.models import Subject
from twosigma.tenancy.models import Department, University


@dataclass(frozen=True)
class CatalogFilter:
    q: str | None = None
    university_id: int | None = None
    department_id: int | None = None
    subject_id: int | None = None
    level: CourseLevel | None = None
    sort: CourseSort = CourseSort.TITLE


def escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


_SORTS = {
    CourseSort.TITLE: (Course.title.asc(), Course.id.asc()),
    CourseSort.TITLE_DESC: (Course.title.desc(), Course.id.desc()),
    CourseSort.CODE: (Course.code.asc(), Course.id.asc()),
    CourseSort.CODE_DESC: (Course.code.desc(), Course.id.desc()),
    CourseSort.ID: (Course.id.asc(),),
    CourseSort.ID_DESC: (Course.id.desc(),),
}


def catalog_query(f: CatalogFilter, unpublished_scope: frozenset[int] | None) -> Select[Course]:
    """Published courses, plus unpublished ones of the universities in `unpublished_scope` (None: all)."""
    stmt = select(Course)
    if unpublished_scope is not None:
        visible: ColumnElement[bool] = Course.is_published.is_(True)
        if unpublished_scope:
            visible = or_(visible, Course.university_id.in_(sorted(unpublished_scope)))
        stmt = stmt.where(visible)
    if f.q:
        pattern = f"%{escape_like(f.q)}%"
        stmt = stmt.where(
            or_(
                Course.title.ilike(pattern, escape="\\"),
                Course.code.ilike(pattern, escape="\\"),
                Course.description.ilike(pattern, escape="\\"),
            )
        )
    if f.university_id is not None:
        stmt = stmt.where(Course.university_id == f.university_id)
    if f.department_id is not None:
        stmt = stmt.where(Course.department_id == f.department_id)
    if f.level is not None:
        stmt = stmt.where(Course.level == f.level)
    if f.subject_id is not None:
        linked = exists().where(CourseSubject.course_id == Course.id, CourseSubject.subject_id == f.subject_id)
        stmt = stmt.where(or_(Course.primary_subject_id == f.subject_id, linked))
    return stmt.order_by(*_SORTS[f.sort])


async def get_course(session: AsyncSession, course_id: int) -> Course | None:
    return await session.get(Course, course_id)


async def university_exists(session: AsyncSession, university_id: int) -> bool:
    return bool(await session.scalar(select(exists().where(University.id == university_id))))


async def department_university(session: AsyncSession, department_id: int) -> int | None:
    return await session.scalar(select(Department.university_id).where(Department.id == department_id))


async def existing_subject_ids(session: AsyncSession, subject_ids: Sequence[int]) -> set[int]:
    if not subject_ids:
        return set()
    return set((await session.scalars(select(Subject.id).where(Subject.id.in_(subject_ids)))).all())


async def code_taken(session: AsyncSession, university_id: int, code: str, *, except_id: int | None = None) -> bool:
    cond = and_(Course.university_id == university_id, Course.code == code)
    if except_id is not None:
        cond = and_(cond, Course.id != except_id)
    return bool(await session.scalar(select(exists().where(cond))))


async def course_subjects(session: AsyncSession, course_id: int) -> Sequence[Subject]:
    stmt = (
        select(Subject)
        .join(CourseSubject, CourseSubject.subject_id == Subject.id)
        .where(CourseSubject.course_id == course_id)
        .order_by(Subject.name, Subject.id)
    )
    return (await session.scalars(stmt)).all()


async def replace_course_subjects(session: AsyncSession, course_id: int, subject_ids: Sequence[int]) -> None:
    await session.execute(delete(CourseSubject).where(CourseSubject.course_id == course_id))
    session.add_all(CourseSubject(course_id=course_id, subject_id=s) for s in subject_ids)
    await session.flush()


async def prerequisites(session: AsyncSession, course_id: int) -> Sequence[Course]:
    stmt = (
        select(Course)
        .join(CoursePrerequisite, CoursePrerequisite.prerequisite_course_id == Course.id)
        .where(CoursePrerequisite.course_id == course_id)
        .order_by(Course.code, Course.id)
    )
    return (await session.scalars(stmt)).all()


async def courses_in_university(session: AsyncSession, university_id: int, course_ids: Sequence[int]) -> set[int]:
    stmt = select(Course.id).where(Course.id.in_(course_ids), Course.university_id == university_id)
    return set((await session.scalars(stmt)).all())


async def lock_prerequisite_graph(session: AsyncSession, university_id: int) -> None:
    """Serialize prerequisite edits within a university, so two concurrent edits cannot close a cycle."""
    await session.execute(select(func.pg_advisory_xact_lock(literal(0x7072), literal(university_id))))


async def reaches(session: AsyncSession, start_ids: Sequence[int], target_id: int) -> bool:
    """Whether `target_id` is reachable from any of `start_ids` by following prerequisite edges (recursive CTE)."""
    if not start_ids:
        return False
    seed = select(CoursePrerequisite.prerequisite_course_id.label("course_id")).where(
        CoursePrerequisite.course_id.in_(start_ids)
    )
    reach = seed.cte("reach", recursive=True)
    step = select(CoursePrerequisite.prerequisite_course_id).join(
        reach, CoursePrerequisite.course_id == reach.c.course_id
    )
    # UNION (not UNION ALL) stops the recursion on already-seen nodes, even if the graph somehow had a cycle.
    reach = reach.union(step)
    return bool(await session.scalar(select(exists().where(reach.c.course_id == target_id))))


async def replace_prerequisites(session: AsyncSession, course_id: int, prerequisite_ids: Sequence[int]) -> None:
    await session.execute(delete(CoursePrerequisite).where(CoursePrerequisite.course_id == course_id))
    session.add_all(CoursePrerequisite(course_id=course_id, prerequisite_course_id=p) for p in prerequisite_ids)
    await session.flush()


# --- Offerings ---------------------------------------------------------------------------------------------------


def offerings_query(course_id: int, *, public_only: bool) -> Select[CourseOffering]:
    stmt = select(CourseOffering).where(CourseOffering.course_id == course_id)
    if public_only:
        stmt = stmt.where(CourseOffering.visibility == Visibility.PUBLIC)
    return stmt.order_by(CourseOffering.starts_at.asc().nulls_last(), CourseOffering.id)


# Built once: every offering-scoped route loads it, and building a select with loader options costs more than
# running its cached compiled form.
_OFFERING_WITH_COURSE = (
    select(CourseOffering)
    .options(joinedload(CourseOffering.course))
    .where(CourseOffering.id == bindparam("offering_id"))
)


async def get_offering_with_course(session: AsyncSession, offering_id: int) -> CourseOffering | None:
    return (await session.scalars(_OFFERING_WITH_COURSE, {"offering_id": offering_id})).one_or_none()


async def lock_offering(session: AsyncSession, offering_id: int) -> CourseOffering | None:
    """SELECT … FOR UPDATE: every change to an offering's seats happens under this row lock."""
    stmt = (
        select(CourseOffering)
        .where(CourseOffering.id == offering_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(stmt)).one_or_none()


async def invite_code_taken(session: AsyncSession, code: str) -> bool:
    return bool(await session.scalar(select(exists().where(CourseOffering.invite_code == code))))
