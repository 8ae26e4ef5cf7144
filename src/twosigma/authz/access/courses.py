"""Courses and offerings: which the caller sees, edits, creates; what of an offering they see."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.authz.policy import (
    can_create_course,
    can_edit_course,
    can_see_hidden_offerings,
    can_view_course,
    ensure,
    ensure_visible,
    unpublished_catalog_scope,
)
from twosigma.authz.principal import Principal
from twosigma.courses import repository as repo
from twosigma.courses.models import Course, CourseOffering


async def visible_course(session: AsyncSession, principal: Principal, course_id: int) -> Course:
    course = await repo.get_course(session, course_id)
    visible = course is not None and can_view_course(principal, course.university_id, course.is_published)
    ensure_visible(visible, resource="Course")
    assert course is not None
    return course


def editable_course(principal: Principal, course: Course) -> Course:
    """`course` (visible to the caller) if they may edit it: 404 for outsiders, 403 for members."""
    ensure(can_edit_course(principal, course.university_id, course.department_id), principal, course.university_id)
    return course


async def visible_offering(session: AsyncSession, principal: Principal, offering_id: int) -> CourseOffering:
    """Any visibility is reachable by id for signed-in users, as long as its course is visible to them."""
    offering = await repo.get_offering_with_course(session, offering_id)
    visible = offering is not None and can_view_course(
        principal, offering.course.university_id, offering.course.is_published
    )
    ensure_visible(visible, resource="Offering")
    assert offering is not None
    return offering


def editable_offering(principal: Principal, offering: CourseOffering) -> CourseOffering:
    editable_course(principal, offering.course)
    return offering


def catalog_scope(principal: Principal | None) -> frozenset[int] | None:
    """Universities whose unpublished courses the caller sees in the catalog; None means every university."""
    return unpublished_catalog_scope(principal)


def ensure_may_create_course(
    principal: Principal, university_id: int, department_id: int | None, *, resource: str = "Resource"
) -> None:
    """Creating a course in a department, or moving one there (a department admin cannot push it out of theirs)."""
    ensure(can_create_course(principal, university_id, department_id), principal, university_id, resource=resource)


def sees_hidden_offerings(principal: Principal, course: Course) -> bool:
    """UNLISTED/INVITE_ONLY offerings of the course and their invite codes: its staff (TAs included)."""
    return can_see_hidden_offerings(principal, course.university_id, course.department_id)
