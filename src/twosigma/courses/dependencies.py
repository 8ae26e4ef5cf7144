"""Typed dependencies that load a course or offering and apply authz: they return the permitted resource or raise."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from twosigma.authz.dependencies import CurrentPrincipal
from twosigma.authz.policy import can_edit_course, can_view_course, ensure, ensure_visible
from twosigma.courses import repository as repo
from twosigma.courses.models import Course, CourseOffering
from twosigma.db.session import DbSession
from twosigma.kit.params import IdPath


async def get_visible_course(session: DbSession, principal: CurrentPrincipal, course_id: IdPath) -> Course:
    course = await repo.get_course(session, course_id)
    visible = course is not None and can_view_course(principal, course.university_id, course.is_published)
    ensure_visible(visible, resource="Course")
    assert course is not None
    return course


async def get_editable_course(
    principal: CurrentPrincipal, course: Annotated[Course, Depends(get_visible_course)]
) -> Course:
    ensure(can_edit_course(principal, course.university_id, course.department_id), principal, course.university_id)
    return course


async def get_visible_offering(session: DbSession, principal: CurrentPrincipal, offering_id: IdPath) -> CourseOffering:
    """Any visibility is reachable by id for signed-in users, as long as its course is visible to them."""
    offering = await repo.get_offering_with_course(session, offering_id)
    visible = offering is not None and can_view_course(
        principal, offering.course.university_id, offering.course.is_published
    )
    ensure_visible(visible, resource="Offering")
    assert offering is not None
    return offering


async def get_editable_offering(
    principal: CurrentPrincipal, offering: Annotated[CourseOffering, Depends(get_visible_offering)]
) -> CourseOffering:
    course = offering.course
    ensure(can_edit_course(principal, course.university_id, course.department_id), principal, course.university_id)
    return offering


VisibleCourse = Annotated[Course, Depends(get_visible_course)]
EditableCourse = Annotated[Course, Depends(get_editable_course)]
VisibleOffering = Annotated[CourseOffering, Depends(get_visible_offering)]
EditableOffering = Annotated[CourseOffering, Depends(get_editable_offering)]
