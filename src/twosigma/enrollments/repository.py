"""Every query of the enrollments domain."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, and_, bindparam, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from twosigma.courses.models import Course, CourseOffering, CoursePrerequisite
from twosigma.enrollments.models import CourseEnrollment
from twosigma.enums import EnrollmentStatus
from twosigma.users.models import User

READING_STATUSES = (EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED)


async def active_count(session: AsyncSession, offering_id: int) -> int:
    stmt = select(func.count()).where(
        CourseEnrollment.course_offering_id == offering_id, CourseEnrollment.status == EnrollmentStatus.ACTIVE
    )
    return int(await session.scalar(stmt) or 0)


async def oldest_waitlisted(session: AsyncSession, offering_id: int, limit: int | None) -> Sequence[CourseEnrollment]:
    stmt = (
        select(CourseEnrollment)
        .where(
            CourseEnrollment.course_offering_id == offering_id,
            CourseEnrollment.status == EnrollmentStatus.WAITLISTED,
        )
        .order_by(CourseEnrollment.enrolled_at, CourseEnrollment.id)
        .with_for_update()
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return (await session.scalars(stmt)).all()


_FIND_ENROLLMENT = (  # built once: every progress write and read runs it
    select(CourseEnrollment)
    .where(
        CourseEnrollment.user_id == bindparam("user_id"),
        CourseEnrollment.course_offering_id == bindparam("offering_id"),
    )
    .execution_options(populate_existing=True)
)


async def find_enrollment(session: AsyncSession, user_id: int, offering_id: int) -> CourseEnrollment | None:
    return (await session.scalars(_FIND_ENROLLMENT, {"user_id": user_id, "offering_id": offering_id})).one_or_none()


async def get_enrollment_with_course(session: AsyncSession, enrollment_id: int) -> CourseEnrollment | None:
    stmt = (
        select(CourseEnrollment)
        .options(joinedload(CourseEnrollment.course_offering).joinedload(CourseOffering.course))
        .where(CourseEnrollment.id == enrollment_id)
    )
    return (await session.scalars(stmt)).one_or_none()


async def lock_enrollment(session: AsyncSession, enrollment_id: int) -> CourseEnrollment | None:
    stmt = (
        select(CourseEnrollment)
        .where(CourseEnrollment.id == enrollment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(stmt)).one_or_none()


async def missing_prerequisites(session: AsyncSession, user_id: int, course_id: int) -> Sequence[Course]:
    """Prerequisite courses of `course_id` in none of whose offerings the user has a COMPLETED enrolment."""
    completed = (
        select(CourseOffering.course_id)
        .join(CourseEnrollment, CourseEnrollment.course_offering_id == CourseOffering.id)
        .where(CourseEnrollment.user_id == user_id, CourseEnrollment.status == EnrollmentStatus.COMPLETED)
    )
    stmt = (
        select(Course)
        .join(CoursePrerequisite, CoursePrerequisite.prerequisite_course_id == Course.id)
        .where(CoursePrerequisite.course_id == course_id, Course.id.not_in(completed))
        .order_by(Course.code, Course.id)
    )
    return (await session.scalars(stmt)).all()


async def reads_course(session: AsyncSession, user_id: int, course_id: int) -> bool:
    """An ACTIVE or COMPLETED enrolment in any offering of the course (what reading its content asks for)."""
    cond = and_(
        CourseEnrollment.user_id == user_id,
        CourseEnrollment.status.in_(READING_STATUSES),
        CourseEnrollment.course_offering_id == CourseOffering.id,
        CourseOffering.course_id == course_id,
    )
    return bool(await session.scalar(select(exists().where(cond))))


async def get_user(session: AsyncSession, user_id: int) -> User | None:
    return await session.get(User, user_id)


def roster_query(offering_id: int, status: EnrollmentStatus | None) -> Select[CourseEnrollment]:
    stmt = (
        select(CourseEnrollment)
        .options(joinedload(CourseEnrollment.user))
        .where(CourseEnrollment.course_offering_id == offering_id)
    )
    if status is not None:
        stmt = stmt.where(CourseEnrollment.status == status)
    return stmt.order_by(CourseEnrollment.enrolled_at, CourseEnrollment.id)


def my_enrollments_query(user_id: int, status: EnrollmentStatus | None) -> Select[CourseEnrollment]:
    stmt = (
        select(CourseEnrollment)
        .options(joinedload(CourseEnrollment.course_offering).joinedload(CourseOffering.course))
        .where(CourseEnrollment.user_id == user_id)
    )
    if status is not None:
        stmt = stmt.where(CourseEnrollment.status == status)
    return stmt.order_by(CourseEnrollment.enrolled_at.desc(), CourseEnrollment.id.desc())
