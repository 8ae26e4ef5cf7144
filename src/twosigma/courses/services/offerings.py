"""Offering rules: listing by visibility, dates, capacity (with waitlist promotion) and invite codes."""

from __future__ import annotations

import secrets

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.authz.access.courses import sees_hidden_offerings
from twosigma.authz.principal import Principal
from twosigma.courses import repository as repo
from twosigma.courses.models import Course, CourseOffering
from twosigma.courses.schemas import OfferingCreate, OfferingRead, OfferingUpdate, check_offering_dates
from twosigma.enrollments.service import promote_waitlisted
from twosigma.enums import Visibility
from twosigma.kit.errors import not_found
from twosigma.kit.pagination import PageParams, PageResult, paginate


def present(principal: Principal, offering: CourseOffering, course: Course) -> OfferingRead:
    """The invite code is shown to the course's staff only."""
    read = OfferingRead.model_validate(offering)
    if not sees_hidden_offerings(principal, course):
        read.invite_code = None
    return read


async def list_offerings(
    session: AsyncSession, principal: Principal, course: Course, params: PageParams
) -> PageResult[OfferingRead]:
    staff = sees_hidden_offerings(principal, course)
    page = await paginate(session, repo.offerings_query(course.id, public_only=not staff), params)
    items = [present(principal, o, course) for o in page.items]
    return PageResult(items=items, page=page.page, limit=page.limit, total=page.total)


async def _new_invite_code(session: AsyncSession) -> str:
    while True:
        code = secrets.token_urlsafe(9)
        if not await repo.invite_code_taken(session, code):
            return code


async def create_offering(session: AsyncSession, course: Course, body: OfferingCreate) -> CourseOffering:
    offering = CourseOffering(course_id=course.id, university_id=course.university_id, **body.model_dump())
    if offering.visibility is Visibility.INVITE_ONLY:
        offering.invite_code = await _new_invite_code(session)
    session.add(offering)
    await session.flush()
    return offering


async def update_offering(session: AsyncSession, offering_id: int, body: OfferingUpdate) -> CourseOffering:
    offering = await repo.lock_offering(session, offering_id)
    if offering is None:
        raise not_found("Offering")
    changes = body.model_dump(exclude_unset=True)
    merged = {
        name: changes.get(name, getattr(offering, name))
        for name in ("starts_at", "ends_at", "enrollment_start", "enrollment_end")
    }
    check_offering_dates(merged)
    for name, value in changes.items():
        setattr(offering, name, value)
    if offering.visibility is Visibility.INVITE_ONLY and offering.invite_code is None:
        offering.invite_code = await _new_invite_code(session)
    await session.flush()
    if "capacity" in changes:
        await promote_waitlisted(session, offering)
    return offering


async def delete_offering(session: AsyncSession, offering: CourseOffering) -> None:
    await session.delete(offering)
    await session.flush()


async def regenerate_invite_code(session: AsyncSession, offering: CourseOffering) -> CourseOffering:
    offering.invite_code = await _new_invite_code(session)
    await session.flush()
    return offering


async def clear_invite_code(session: AsyncSession, offering: CourseOffering) -> None:
    """After this, an INVITE_ONLY offering admits nobody by self-enrolment until a new code is made."""
    offering.invite_code = None
    await session.flush()
