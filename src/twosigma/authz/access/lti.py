"""LTI: the university whose platforms a route manages, one of its platforms, and what an instructor launching
from an unlinked LMS course may link it to (docs/lti.md)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.authz import policy
from twosigma.authz.access import tenancy as tenancy_access
from twosigma.authz.principal import Principal
from twosigma.courses import repository as courses_repo
from twosigma.courses.models import Course, CourseOffering
from twosigma.kit.errors import not_found
from twosigma.lti import repository as repo
from twosigma.lti.models import LtiPlatform
from twosigma.tenancy.models import University


async def lti_university(session: AsyncSession, p: Principal, university_id: int) -> University:
    """A university's LTI platforms: its admins and platform admins (404 for outsiders, 403 for other members)."""
    return await tenancy_access.sso_university(session, p, university_id)


async def lti_platform(session: AsyncSession, p: Principal, university_id: int, platform_id: int) -> LtiPlatform:
    university = await lti_university(session, p, university_id)
    platform = await repo.get_platform(session, platform_id)
    if platform is None or platform.university_id != university.id:
        raise not_found("LTI platform")
    return platform


def platform_of_offering(platform: LtiPlatform | None, offering: CourseOffering) -> LtiPlatform:
    """The platform an offering's staff link a context of: only one of the offering's own university."""
    if platform is None or platform.university_id != offering.university_id:
        raise not_found("LTI platform")
    return platform


async def linkable_offerings(
    session: AsyncSession, p: Principal, university_id: int
) -> tuple[Sequence[CourseOffering], Sequence[Course]]:
    """The university's offerings and courses the caller may link an LMS course to (those they may edit)."""
    offerings, courses = await repo.offerings_and_courses_of(session, university_id)
    editable = {c.id for c in courses if policy.can_edit_course(p, c.university_id, c.department_id)}
    return [o for o in offerings if o.course_id in editable], [c for c in courses if c.id in editable]


async def linkable_offering(
    session: AsyncSession, p: Principal, university_id: int, offering_id: int
) -> CourseOffering:
    offering = await courses_repo.get_offering_with_course(session, offering_id)
    if (
        offering is None
        or offering.university_id != university_id
        or not policy.can_edit_course(p, university_id, offering.course.department_id)
    ):
        raise not_found("Offering")
    return offering


async def linkable_course(session: AsyncSession, p: Principal, university_id: int, course_id: int) -> Course:
    course = await courses_repo.get_course(session, course_id)
    if (
        course is None
        or course.university_id != university_id
        or not policy.can_edit_course(p, university_id, course.department_id)
    ):
        raise not_found("Course")
    return course
