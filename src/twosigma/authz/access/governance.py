"""Tutor governance: who sets a university's or a course's tutor policy, reads its usage and handles its flags."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.authz import policy
from twosigma.authz.access.analytics import analytics_scope
from twosigma.authz.principal import Principal
from twosigma.courses import repository as courses_repo
from twosigma.kit.errors import not_found
from twosigma.tenancy import repository as tenancy_repo
from twosigma.tenancy.models import University


async def governed_university(session: AsyncSession, p: Principal, university_id: int) -> University:
    """A university's tutor policy and its own provider settings: its admins and platform admins. Private: 404 for
    outsiders, 403 for members with another role."""
    university = await tenancy_repo.get_university(session, university_id)
    if university is None:
        raise not_found("University")
    policy.ensure(policy.administers_university(p, university.id), p, university.id, resource="University")
    return university


@dataclass(frozen=True)
class UsageScope:
    university_id: int | None  # None: the whole platform (platform admins only)
    course_id: int | None


async def usage_scope(
    session: AsyncSession, p: Principal, university_id: int | None, course_id: int | None
) -> UsageScope:
    """The tutor usage report's scope, by the rule of the analytics overview (authz/access/analytics.py): platform
    admins anything, a university admin their university. A course outside the scope is a 404."""
    scope = await analytics_scope(session, p, university_id)
    if course_id is not None:
        course = await courses_repo.get_course(session, course_id)
        if course is None or (scope is not None and course.university_id != scope):
            raise not_found("Course")
    return UsageScope(scope, course_id)
