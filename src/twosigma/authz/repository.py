from __future__ import annotations

from dataclasses import fields

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.authz.principal import Grant, Principal, UserSnapshot
from twosigma.courses.models import CourseOffering
from twosigma.db.driver import pooled_fetch
from twosigma.db.engine import Database
from twosigma.enrollments.models import CourseEnrollment
from twosigma.enums import EnrollmentStatus, UserRole
from twosigma.tenancy.models import UserUniversityRole

# The snapshot's fields are the users columns it holds, in its constructor's order.
_USER_COLUMNS = tuple(f.name for f in fields(UserSnapshot))


async def load_grants(session: AsyncSession, user_id: int) -> tuple[Grant, ...]:
    rows = await session.execute(
        select(UserUniversityRole.university_id, UserUniversityRole.role, UserUniversityRole.department_id)
        .where(UserUniversityRole.user_id == user_id)
        .order_by(UserUniversityRole.id)
    )
    return tuple(Grant(university_id=u, role=r, department_id=d) for u, r, d in rows)


# The user and their grants in ONE statement (a LEFT JOIN), read outside any transaction: every authenticated
# request runs it, so it skips the ORM (an ORM session and entity load cost ~6x the query itself here).
_PRINCIPAL_SQL = (
    "SELECT " + ", ".join(f"u.{c}" for c in _USER_COLUMNS) + ", r.university_id, r.role::text, r.department_id"
    " FROM users u LEFT JOIN user_university_roles r ON r.user_id = u.id"
    " WHERE u.id = $1 ORDER BY r.id"
)
_N = len(_USER_COLUMNS)


async def load_principal(db: Database, user_id: int) -> Principal | None:
    rows = await pooled_fetch(db, _PRINCIPAL_SQL, user_id)
    if not rows:
        return None
    user = UserSnapshot(*rows[0][:_N])
    grants = tuple(
        Grant(university_id=r[_N], role=UserRole(r[_N + 1]), department_id=r[_N + 2]) for r in rows if r[_N] is not None
    )
    return Principal(user=user, grants=grants)


async def active_enrollment_universities(session: AsyncSession, user_id: int) -> frozenset[int]:
    """The universities in whose offerings the user holds an ACTIVE enrolment."""
    stmt = (
        select(CourseOffering.university_id)
        .join(CourseEnrollment, CourseEnrollment.course_offering_id == CourseOffering.id)
        .where(CourseEnrollment.user_id == user_id, CourseEnrollment.status == EnrollmentStatus.ACTIVE)
        .distinct()
    )
    return frozenset((await session.scalars(stmt)).all())
