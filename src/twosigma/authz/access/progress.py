"""Progress: the caller's own enrolment in an offering (to record or read their progress), or staff access to it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.authz.policy import can_view_course_staff_data, ensure, ensure_enrolled_as
from twosigma.authz.principal import Principal
from twosigma.courses import repository as courses_repo
from twosigma.courses.models import CourseOffering
from twosigma.enrollments import repository as enrollments_repo
from twosigma.enrollments.models import CourseEnrollment
from twosigma.enums import EnrollmentStatus
from twosigma.kit.errors import not_found

WRITING = frozenset({EnrollmentStatus.ACTIVE})
READING = frozenset({EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED})


@dataclass(frozen=True)
class Participation:
    """The caller's enrolment in an offering (whose course is loaded)."""

    offering: CourseOffering
    enrollment: CourseEnrollment


async def participation(
    session: AsyncSession, principal: Principal, offering: CourseOffering, allowed: frozenset[EnrollmentStatus]
) -> Participation:
    """The caller's enrolment in `offering` (visible to them) if its status is in `allowed` (WRITING, READING)."""
    enrollment = await enrollments_repo.find_enrollment(session, principal.id, offering.id)
    status = enrollment.status if enrollment is not None else None
    ensure_enrolled_as(principal, offering.course.university_id, status, allowed)
    assert enrollment is not None
    return Participation(offering, enrollment)


async def staff_offering(session: AsyncSession, principal: Principal, offering_id: int) -> CourseOffering:
    """An offering whose progress views the caller reads as staff."""
    offering = await courses_repo.get_offering_with_course(session, offering_id)
    if offering is None:
        raise not_found("Offering")
    course = offering.course
    allowed = can_view_course_staff_data(principal, course.university_id, course.department_id)
    ensure(allowed, principal, course.university_id, resource="Offering")
    return offering
