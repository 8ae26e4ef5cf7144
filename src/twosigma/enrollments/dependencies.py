"""Typed dependencies that load an enrolment or a roster's offering and apply authz."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from twosigma.authz.dependencies import CurrentPrincipal
from twosigma.authz.policy import (
    can_edit_course,
    can_view_course_staff_data,
    can_view_enrollment,
    ensure,
    ensure_visible,
)
from twosigma.courses.dependencies import VisibleOffering
from twosigma.courses.models import CourseOffering
from twosigma.db.session import DbSession
from twosigma.enrollments import repository as repo
from twosigma.enrollments.models import CourseEnrollment
from twosigma.kit.params import IdPath


async def get_visible_enrollment(
    session: DbSession, principal: CurrentPrincipal, enrollment_id: IdPath
) -> CourseEnrollment:
    """Your own, or any of a university you are staff of; everything else is 404."""
    enrollment = await repo.get_enrollment_with_course(session, enrollment_id)
    visible = enrollment is not None and can_view_enrollment(
        principal, enrollment.user_id, enrollment.course_offering.university_id
    )
    ensure_visible(visible, resource="Enrollment")
    assert enrollment is not None
    return enrollment


async def get_editable_enrollment(
    principal: CurrentPrincipal, enrollment: Annotated[CourseEnrollment, Depends(get_visible_enrollment)]
) -> CourseEnrollment:
    course = enrollment.course_offering.course
    ensure(can_edit_course(principal, course.university_id, course.department_id), principal, course.university_id)
    return enrollment


async def get_roster_offering(principal: CurrentPrincipal, offering: VisibleOffering) -> CourseOffering:
    course = offering.course
    ensure(
        can_view_course_staff_data(principal, course.university_id, course.department_id),
        principal,
        course.university_id,
        resource="Offering",
    )
    return offering


VisibleEnrollment = Annotated[CourseEnrollment, Depends(get_visible_enrollment)]
EditableEnrollment = Annotated[CourseEnrollment, Depends(get_editable_enrollment)]
RosterOffering = Annotated[CourseOffering, Depends(get_roster_offering)]
