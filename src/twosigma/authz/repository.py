"""The queries authz decides from: the caller (user, grants, suspensions) and who belongs to a university."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from sqlalchemy import exists, or_, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.authz.principal import Grant, Principal, UserSnapshot
from twosigma.courses.models import CourseOffering
from twosigma.db.driver import driver_fetch, pooled_fetch
from twosigma.db.engine import Database
from twosigma.enrollments.models import CourseEnrollment
from twosigma.enums import EnrollmentStatus, UserRole
from twosigma.tenancy.models import MemberSuspension, UserUniversityRole
from twosigma.users.models import User

# The snapshot's fields are the users columns it holds, in its constructor's order.
_USER_COLUMNS = tuple(f.name for f in fields(UserSnapshot))

# The user, their grants and the universities where they are suspended in ONE statement, read outside any
# transaction: every authenticated request runs it, so it skips the ORM (an ORM session and entity load cost ~6x the
# query itself here). The LATERAL array is computed once per user, not once per grant row.
_PRINCIPAL_SQL = (
    "SELECT "
    + ", ".join(f"u.{c}" for c in _USER_COLUMNS)
    + ", s.suspended_in, r.university_id, r.role::text, r.department_id"
    " FROM users u"
    " CROSS JOIN LATERAL (SELECT ARRAY(SELECT ms.university_id FROM member_suspensions ms"
    " WHERE ms.user_id = u.id) AS suspended_in) s"
    " LEFT JOIN user_university_roles r ON r.user_id = u.id"
    " WHERE u.id = $1 ORDER BY r.id"
)
_N = len(_USER_COLUMNS)


def _principal_from(rows: Sequence[Any]) -> Principal | None:
    if not rows:
        return None
    user = UserSnapshot(*rows[0][:_N])
    grants = tuple(
        Grant(university_id=r[_N + 1], role=UserRole(r[_N + 2]), department_id=r[_N + 3])
        for r in rows
        if r[_N + 1] is not None
    )
    return Principal.build(user, grants, rows[0][_N])


async def load_principal(db: Database, user_id: int) -> Principal | None:
    """The caller of a request, on its own pooled connection (outside the request's unit of work)."""
    return _principal_from(await pooled_fetch(db, _PRINCIPAL_SQL, user_id))


async def load_principal_in(session: AsyncSession, user_id: int) -> Principal | None:
    """Someone else's standing as of now, inside the caller's transaction (e.g. an inviter's, re-checked when their
    invitation is accepted). None if the account is gone."""
    return _principal_from(await driver_fetch(session, _PRINCIPAL_SQL, user_id))


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
