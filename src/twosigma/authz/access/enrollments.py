"""Enrolments: which the caller sees or edits, whose roster they read, and what they may do with their own."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.authz.access.courses import editable_course
from twosigma.authz.policy import (
    can_edit_course,
    can_view_course_staff_data,
    can_view_enrollment,
    ensure,
    ensure_not_suspended,
    ensure_visible,
    is_staff,
)
from twosigma.authz.principal import Principal
from twosigma.courses.models import Course, CourseOffering
from twosigma.enrollments import repository as repo
from twosigma.enrollments.models import CourseEnrollment
from twosigma.kit.errors import Conflict, not_found


async def visible_enrollment(session: AsyncSession, principal: Principal, enrollment_id: int) -> CourseEnrollment:
    """Your own, or any of a university you are staff of; everything else is 404."""
    enrollment = await repo.get_enrollment_with_course(session, enrollment_id)
    visible = enrollment is not None and can_view_enrollment(
        principal, enrollment.user_id, enrollment.course_offering.university_id
    )
    ensure_visible(visible, resource="Enrollment")
    assert enrollment is not None
    return enrollment


def editable_enrollment(principal: Principal, enrollment: CourseEnrollment) -> CourseEnrollment:
    editable_course(principal, enrollment.course_offering.course)
    return enrollment


def roster_offering(principal: Principal, offering: CourseOffering) -> CourseOffering:
    """The offering (visible to the caller) if they may read its roster: the course's staff data."""
    course = offering.course
    ensure(
        can_view_course_staff_data(principal, course.university_id, course.department_id),
        principal,
        course.university_id,
        resource="Offering",
    )
    return offering


def ensure_may_enroll_self(principal: Principal, course: Course) -> None:
    """Self-enrolment: an unpublished course is 404 (409 `course_not_published` for its university's staff, who see
    it); a member suspended in the university may not enrol there."""
    if not course.is_published:
        if is_staff(principal, course.university_id):
            raise Conflict("The course is not published.", code="course_not_published")
        raise not_found("Offering")
    ensure_not_suspended(principal, course.university_id)


def ensure_may_change_own(principal: Principal, course: Course) -> None:
    """What a member does with their own enrolment stops while they are suspended in the university."""
    ensure_not_suspended(principal, course.university_id)


def acts_as_staff(principal: Principal, course: Course) -> bool:
    """Whether the caller changes enrolments of `course` as its staff (its editors)."""
    return can_edit_course(principal, course.university_id, course.department_id)
