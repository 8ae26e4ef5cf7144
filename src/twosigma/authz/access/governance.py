"""Tutor governance: who sets a university's or a course's tutor policy, reads its usage and handles its flags."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.authz import policy
from twosigma.authz.access.analytics import analytics_scope
from twosigma.authz.principal import Principal
from twosigma.courses import repository as courses_repo
from twosigma.enums import UserRole
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


# --- Safety flags ---------------------------------------------------------------------------------------------------

FLAG_ROLES = frozenset({UserRole.INSTRUCTOR, UserRole.DEPARTMENT_ADMIN})


@dataclass(frozen=True)
class FlagScope:
    """Which of a university's escalated flags the caller handles: all of them (its admins), those of every course
    (a university-wide instructor), or those of the courses of some departments (department instructors and
    admins). A flag of a chat without a course is for the admins only."""

    university: University
    everything: bool
    all_courses: bool
    department_ids: frozenset[int]


async def flag_scope(session: AsyncSession, p: Principal, university_id: int) -> FlagScope:
    university = await tenancy_repo.get_university(session, university_id)
    if university is None:
        raise not_found("University")
    if policy.administers_university(p, university.id):
        return FlagScope(university, everything=True, all_courses=True, department_ids=frozenset())
    grants = [g for g in p.grants_in(university.id) if g.role in FLAG_ROLES]
    policy.ensure(bool(grants), p, university.id, resource="University")
    everywhere = any(g.role is UserRole.INSTRUCTOR and g.department_id is None for g in grants)
    departments = frozenset(g.department_id for g in grants if g.department_id is not None)
    return FlagScope(university, everything=False, all_courses=everywhere, department_ids=departments)
