"""Typed dependencies for progress routes: the caller's enrolment in the offering, or staff access to it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.authz.dependencies import CurrentPrincipal
from twosigma.authz.policy import can_view_course_staff_data, ensure, ensure_enrolled_as
from twosigma.authz.principal import Principal
from twosigma.courses import repository as courses_repo
from twosigma.courses.dependencies import VisibleOffering
from twosigma.courses.models import CourseOffering
from twosigma.db.session import DbSession
from twosigma.enrollments import repository as enrollments_repo
from twosigma.enrollments.models import CourseEnrollment
from twosigma.enums import EnrollmentStatus
from twosigma.kit.errors import NotFound
from twosigma.kit.params import IdPath

WRITING = frozenset({EnrollmentStatus.ACTIVE})
READING = frozenset({EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED})


@dataclass(frozen=True)
class Participation:
    """The caller's enrolment in an offering (whose course is loaded)."""

    offering: CourseOffering
    enrollment: CourseEnrollment


async def _participation(
    session: AsyncSession, principal: Principal, offering: CourseOffering, allowed: frozenset[EnrollmentStatus]
) -> Participation:
    enrollment = await enrollments_repo.find_enrollment(session, principal.id, offering.id)
    status = enrollment.status if enrollment is not None else None
    ensure_enrolled_as(principal, offering.course.university_id, status, allowed)
    assert enrollment is not None
    return Participation(offering, enrollment)


async def get_writing_participation(
    session: DbSession, principal: CurrentPrincipal, offering: VisibleOffering
) -> Participation:
    return await _participation(session, principal, offering, WRITING)


async def get_reading_participation(
    session: DbSession, principal: CurrentPrincipal, offering: VisibleOffering
) -> Participation:
    return await _participation(session, principal, offering, READING)


async def get_staff_offering(session: DbSession, principal: CurrentPrincipal, offering_id: IdPath) -> CourseOffering:
    offering = await courses_repo.get_offering_with_course(session, offering_id)
    if offering is None:
        raise NotFound("Offering not found.")
    course = offering.course
    allowed = can_view_course_staff_data(principal, course.university_id, course.department_id)
    ensure(allowed, principal, course.university_id, resource="Offering")
    return offering


WritingParticipation = Annotated[Participation, Depends(get_writing_participation)]
ReadingParticipation = Annotated[Participation, Depends(get_reading_participation)]
StaffOffering = Annotated[CourseOffering, Depends(get_staff_offering)]
