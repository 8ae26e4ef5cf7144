"""The queries authz decides from: the caller (user, grants, suspensions) and who belongs to a university."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, bindparam, exists, func, or_, select, true, union
from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.authz.principal import Grant, Principal, UserSnapshot
from twosigma.courses.models import CourseOffering
from twosigma.db.session import ReadSession
from twosigma.enrollments.models import CourseEnrollment
from twosigma.enums import EnrollmentStatus
from twosigma.tenancy.models import MemberSuspension, UserUniversityRole
from twosigma.users.models import User

# The user, their grants and the universities where they are suspended, in ONE statement (one row per grant, or
# one row with NULL grant columns): every authenticated request runs it. Built once, with a bound parameter. The
# LATERAL array is computed once per user, not once per grant row.
_SUSPENDED = select(
    func.array(
        select(MemberSuspension.university_id)
        .where(MemberSuspension.user_id == User.id)
        .correlate(User)
        .scalar_subquery()
    ).label("suspended_in")
).lateral("suspended")
_PRINCIPAL = (
    select(
        User.id,
        User.email,
        User.full_name,
        User.locale,
        User.time_zone,
        User.is_active,
        User.email_verified_at,
        User.current_streak_days,
        User.last_activity_date,
        User.created_at,
        User.updated_at,
        _SUSPENDED.c.suspended_in,
        UserUniversityRole.university_id.label("grant_university_id"),
        UserUniversityRole.role.label("grant_role"),
        UserUniversityRole.department_id.label("grant_department_id"),
    )
    .select_from(User)
    .join(_SUSPENDED, true())
    .outerjoin(UserUniversityRole, UserUniversityRole.user_id == User.id)
    .where(User.id == bindparam("user_id"))
    .order_by(UserUniversityRole.id)
)


def _principal_from(rows: Sequence[Row[*tuple[Any, ...]]]) -> Principal | None:
    if not rows:
        return None
    row = rows[0]
    user = UserSnapshot(
        id=row.id,
        email=row.email,
        full_name=row.full_name,
        locale=row.locale,
        time_zone=row.time_zone,
        is_active=row.is_active,
        email_verified_at=row.email_verified_at,
        current_streak_days=row.current_streak_days,
        last_activity_date=row.last_activity_date,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
    grants = tuple(
        Grant(university_id=r.grant_university_id, role=r.grant_role, department_id=r.grant_department_id)
        for r in rows
        if r.grant_university_id is not None
    )
    return Principal.build(user, grants, row.suspended_in)


async def load_principal(read: ReadSession, user_id: int) -> Principal | None:
    """The caller of a request, read outside the request's unit of work (`db.session.read_session`)."""
    return _principal_from((await read.execute(_PRINCIPAL, {"user_id": user_id})).all())


async def load_principal_in(session: AsyncSession, user_id: int) -> Principal | None:
    """Someone else's standing as of now, inside the caller's transaction (e.g. an inviter's, re-checked when their
    invitation is accepted). None if the account is gone."""
    return _principal_from((await session.execute(_PRINCIPAL, {"user_id": user_id})).all())


def member_ids_of(university_id: int) -> Any:
    """Users who belong to a university: a role there, an enrolment in one of its offerings, or a suspension there
    (a suspended member is still a member, so their suspension can be lifted)."""
    return union(
        select(UserUniversityRole.user_id).where(UserUniversityRole.university_id == university_id),
        select(CourseEnrollment.user_id)
        .join(CourseOffering, CourseOffering.id == CourseEnrollment.course_offering_id)
        .where(CourseOffering.university_id == university_id),
        select(MemberSuspension.user_id).where(MemberSuspension.university_id == university_id),
    )


async def belongs_to(session: AsyncSession, user_id: int, university_id: int) -> bool:
    conditions = or_(
        exists().where(UserUniversityRole.user_id == user_id, UserUniversityRole.university_id == university_id),
        exists().where(
            CourseEnrollment.user_id == user_id,
            CourseEnrollment.course_offering_id == CourseOffering.id,
            CourseOffering.university_id == university_id,
        ),
        exists().where(MemberSuspension.user_id == user_id, MemberSuspension.university_id == university_id),
    )
    return bool(await session.scalar(select(conditions)))


async def universities_of(session: AsyncSession, user_id: int) -> frozenset[int]:
    """Every university the user belongs to (same three ways as `belongs_to`)."""
    stmt = union(
        select(UserUniversityRole.university_id).where(UserUniversityRole.user_id == user_id),
        select(CourseOffering.university_id)
        .join(CourseEnrollment, CourseEnrollment.course_offering_id == CourseOffering.id)
        .where(CourseEnrollment.user_id == user_id),
        select(MemberSuspension.university_id).where(MemberSuspension.user_id == user_id),
    )
    return frozenset((await session.scalars(stmt)).all())


async def get_user(session: AsyncSession, user_id: int) -> User | None:
    return await session.get(User, user_id)


async def get_user_by_email(session: AsyncSession, email: str) -> User | None:
    # Emails are stored lowercased, so the unique index on users.email serves this lookup.
    return (await session.scalars(select(User).where(User.email == email.lower()))).one_or_none()


async def active_enrollment_universities(session: AsyncSession, user_id: int) -> frozenset[int]:
    """The universities in whose offerings the user holds an ACTIVE enrolment."""
    stmt = (
        select(CourseOffering.university_id)
        .join(CourseEnrollment, CourseEnrollment.course_offering_id == CourseOffering.id)
        .where(CourseEnrollment.user_id == user_id, CourseEnrollment.status == EnrollmentStatus.ACTIVE)
        .distinct()
    )
    return frozenset((await session.scalars(stmt)).all())
