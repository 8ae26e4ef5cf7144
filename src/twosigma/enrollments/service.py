"""Enrolment rules: self-enrolment, staff enrolment, the state machine and the waitlist.

Contract: every change to which enrolments of an offering are ACTIVE happens while holding the offering's row lock
(`courses.repository.lock_offering`, SELECT … FOR UPDATE), and the seat count is taken after the lock. That is what
keeps concurrent enrolments from exceeding capacity. After any change that may free a seat, `promote_waitlisted`
runs in the same transaction, so the waitlist is only ever non-empty while the offering is full.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.audit import service as audit
from twosigma.audit.models import AuditAction
from twosigma.authz import addressing
from twosigma.authz.access.enrollments import acts_as_staff, ensure_may_change_own, ensure_may_enroll_self
from twosigma.authz.access.sso import ensure_may_join
from twosigma.authz.principal import Principal
from twosigma.config import Settings
from twosigma.courses import repository as courses_repo
from twosigma.courses.models import Course, CourseOffering
from twosigma.enrollments import repository as repo
from twosigma.enrollments.models import CourseEnrollment
from twosigma.enrollments.schemas import StaffEnrollRequest
from twosigma.enrollments.state import Actor, check_transition, frees_seat
from twosigma.enums import EnrollmentStatus as S
from twosigma.enums import Visibility
from twosigma.invitations.schemas import InvitationCreated
from twosigma.invitations.services import invitations
from twosigma.kit.errors import Conflict, Forbidden, not_found
from twosigma.kit.pagination import PageParams, PageResult, paginate
from twosigma.lti.services import grades as lti_grades
from twosigma.tenancy.services import universities as tenancy
from twosigma.users.models import User


def _now() -> datetime:
    return datetime.now(UTC)


class AlreadyEnrolled(Conflict):
    code = "already_enrolled"


class EnrollmentClosed(Conflict):
    code = "enrollment_closed"


class PrerequisitesNotMet(Conflict):
    code = "prerequisites_not_met"


class InviteCodeInvalid(Forbidden):
    code = "invite_code_invalid"


# --- Seats ---------------------------------------------------------------------------------------------------------


async def _locked_offering(session: AsyncSession, offering_id: int) -> CourseOffering:
    offering = await courses_repo.lock_offering(session, offering_id)
    if offering is None:
        raise not_found("Offering")
    return offering


async def seat_status(session: AsyncSession, offering: CourseOffering) -> S:
    """ACTIVE if a seat is free, else WAITLISTED. The caller holds the offering's lock."""
    if offering.capacity is None:
        return S.ACTIVE
    return S.ACTIVE if await repo.active_count(session, offering.id) < offering.capacity else S.WAITLISTED


async def promote_waitlisted(session: AsyncSession, offering: CourseOffering) -> Sequence[CourseEnrollment]:
    """Fill free seats with the oldest WAITLISTED enrolments (enrolled_at, id). The caller holds the lock."""
    await session.flush()
    limit: int | None = None
    if offering.capacity is not None:
        limit = offering.capacity - await repo.active_count(session, offering.id)
        if limit <= 0:
            return []
    promoted = await repo.oldest_waitlisted(session, offering.id, limit)
    for enrollment in promoted:
        enrollment.status = S.ACTIVE
    await session.flush()
    return promoted


def window_open(offering: CourseOffering, at: datetime) -> bool:
    if offering.enrollment_start is not None and at < offering.enrollment_start:
        return False
    return not (offering.enrollment_end is not None and at >= offering.enrollment_end)


def _ensure_window_open(offering: CourseOffering) -> None:
    if not window_open(offering, _now()):
        raise EnrollmentClosed(
            "Enrolment in this offering is closed.",
            details={
                "enrollment_start": offering.enrollment_start.isoformat() if offering.enrollment_start else None,
                "enrollment_end": offering.enrollment_end.isoformat() if offering.enrollment_end else None,
            },
        )


def _invite_code_matches(offering: CourseOffering, given: str | None) -> bool:
    if not offering.invite_code or not given:
        return False
    return hmac.compare_digest(offering.invite_code.encode(), given.encode())


async def _ensure_prerequisites(session: AsyncSession, user_id: int, course_id: int) -> None:
    missing = await repo.missing_prerequisites(session, user_id, course_id)
    if missing:
        raise PrerequisitesNotMet(
            "Complete the prerequisite courses first.",
            details={"missing": [{"id": c.id, "code": c.code, "title": c.title} for c in missing]},
        )


async def _insert(session: AsyncSession, user_id: int, offering_id: int, status: S) -> CourseEnrollment:
    enrollment = CourseEnrollment(user_id=user_id, course_offering_id=offering_id, status=status)
    try:
        async with session.begin_nested():
            session.add(enrollment)
            await session.flush()
    except IntegrityError as exc:
        raise AlreadyEnrolled("Already enrolled in this offering.") from exc
    return enrollment


# --- Self-enrolment ------------------------------------------------------------------------------------------------


async def enroll_self(
    session: AsyncSession, principal: Principal, offering_id: int, invite_code: str | None
) -> CourseEnrollment:
    offering = await _locked_offering(session, offering_id)
    course = await session.get(Course, offering.course_id)
    assert course is not None
    ensure_may_enroll_self(principal, course)
    await ensure_may_join(session, principal, offering.university_id)
    existing = await repo.find_enrollment(session, principal.id, offering.id)
    if existing is not None and existing.status is not S.DROPPED:
        raise AlreadyEnrolled("Already enrolled in this offering.", details={"status": existing.status.value})
    # A dropped student was admitted once; re-enrolling does not ask for the (possibly rotated) invite code.
    if existing is None and offering.visibility is Visibility.INVITE_ONLY:
        if not _invite_code_matches(offering, invite_code):
            raise InviteCodeInvalid("This offering needs a valid invite code.")
    _ensure_window_open(offering)
    await _ensure_prerequisites(session, principal.id, course.id)
    status = await seat_status(session, offering)
    if existing is not None:
        existing.status = status
        existing.enrolled_at = _now()  # back of the queue if waitlisted
        existing.completed_at = None
        enrollment = existing
        await session.flush()
    else:
        enrollment = await _insert(session, principal.id, offering.id, status)
    await tenancy.ensure_student_role(session, principal.id, offering.university_id)
    return enrollment


async def enroll_from_platform(session: AsyncSession, user_id: int, offering_id: int) -> bool:
    """A learner the university's LMS launched into, or lists in, a linked offering (lti/): ACTIVE whatever the
    visibility, window, capacity or prerequisites, since the LMS roster is the university's own word. ACTIVE and
    COMPLETED enrolments stay as they are; any other is made ACTIVE. Whether anything changed."""
    offering = await _locked_offering(session, offering_id)
    existing = await repo.find_enrollment(session, user_id, offering.id)
    if existing is not None and existing.status in (S.ACTIVE, S.COMPLETED):
        return False
    if existing is not None:
        existing.status = S.ACTIVE
        existing.enrolled_at = _now()
        existing.completed_at = None
        await session.flush()
    else:
        await _insert(session, user_id, offering.id, S.ACTIVE)
    await tenancy.ensure_student_role(session, user_id, offering.university_id)
    return True


async def drop_from_platform(session: AsyncSession, user_id: int, offering_id: int) -> bool:
    """A learner the LMS no longer lists in a linked offering (lti/ roster sync): an ACTIVE, PENDING or WAITLISTED
    enrolment becomes DROPPED (a COMPLETED one stays). Whether anything changed."""
    existing = await repo.find_enrollment(session, user_id, offering_id)
    if existing is None or existing.status not in (S.ACTIVE, S.PENDING, S.WAITLISTED):
        return False
    existing.status = S.DROPPED
    await session.flush()
    return True


# --- Staff enrolment -----------------------------------------------------------------------------------------------


async def enrol_or_invite(
    session: AsyncSession,
    principal: Principal,
    offering: CourseOffering,
    body: StaffEnrollRequest,
    now: datetime,
    settings: Settings,
) -> CourseEnrollment | InvitationCreated:
    """A member of the offering's university by id is enrolled at once; anyone by email (unless the caller is a
    platform admin) gets an invitation, whether or not an account has that address (authz/membership.py)."""
    user = await addressing.addressee(
        session, principal, offering.university_id, user_id=body.user_id, email=body.email
    )
    if user is None:
        assert body.email is not None
        issued = await invitations.invite_to_offering(
            session, principal, offering.university_id, offering.id, body.email, S(body.status), now
        )
        await invitations.mail_invitation(session, settings, principal, issued)
        return invitations.created_view(issued, now, settings)
    return await enroll_by_staff(session, principal, offering.id, user, S(body.status))


async def enroll_by_staff(
    session: AsyncSession,
    authority: Principal,
    offering_id: int,
    user: User,
    requested: S,
    *,
    via_invitation: int | None = None,
) -> CourseEnrollment:
    """Bypasses visibility, invite code, window and prerequisites; respects capacity (ACTIVE → WAITLISTED when full).

    On `authority`'s right (already checked): the caller's, or an accepted invitation's inviter."""
    offering = await _locked_offering(session, offering_id)
    status = requested
    if status is S.ACTIVE:
        status = await seat_status(session, offering)
    existing = await repo.find_enrollment(session, user.id, offering.id)
    if existing is not None and existing.status is not S.DROPPED:
        raise AlreadyEnrolled("The user is already enrolled in this offering.", details={"status": existing.status})
    if existing is not None:
        existing.status = status
        existing.enrolled_at = _now()
        existing.completed_at = None
        enrollment = existing
        await session.flush()
    else:
        enrollment = await _insert(session, user.id, offering.id, status)
    await tenancy.ensure_student_role(session, user.id, offering.university_id)
    details: dict[str, Any] = {
        "course_offering_id": offering.id,
        "course_id": offering.course_id,
        "status": enrollment.status.value,
        "requested_status": requested.value,
    }
    if via_invitation is not None:
        details["invitation_id"] = via_invitation
    await audit.record(
        session,
        AuditAction.ENROLLMENT_CREATED,
        actor=authority,
        university_id=offering.university_id,
        target_user_id=user.id,
        target_email=user.email,
        resource=("enrollment", enrollment.id),
        details=details,
    )
    return enrollment


async def _record_staff_change(
    session: AsyncSession,
    principal: Principal,
    action: AuditAction,
    offering: CourseOffering,
    enrollment: CourseEnrollment,
    details: dict[str, Any],
) -> None:
    """Staff changing someone's enrolment: the trail outlives the enrolment (and the account)."""
    owner = await repo.get_user(session, enrollment.user_id)
    await audit.record(
        session,
        action,
        actor=principal,
        university_id=offering.university_id,
        target_user_id=enrollment.user_id,
        target_email=owner.email if owner is not None else None,
        resource=("enrollment", enrollment.id),
        details={"course_offering_id": enrollment.course_offering_id, **details},
    )


# --- Transitions ---------------------------------------------------------------------------------------------------


async def change_status(
    session: AsyncSession, principal: Principal, enrollment: CourseEnrollment, target: S
) -> CourseEnrollment:
    course = enrollment.course_offering.course
    offering = await _locked_offering(session, enrollment.course_offering_id)
    locked = await repo.lock_enrollment(session, enrollment.id)
    if locked is None:
        raise not_found("Enrollment")
    actor = Actor.NONE
    if locked.user_id == principal.id:
        ensure_may_change_own(principal, course)
        actor |= Actor.SELF
    if acts_as_staff(principal, course):
        actor |= Actor.STAFF
    current = locked.status
    check_transition(current, target, actor)
    if target is S.ACTIVE:
        if current is S.DROPPED and Actor.STAFF not in actor:
            _ensure_window_open(offering)
        locked.status = await seat_status(session, offering)
        if current is S.DROPPED:
            locked.enrolled_at = _now()
            locked.completed_at = None
    else:
        locked.status = target
        if target is S.COMPLETED:
            locked.completed_at = _now()
    await session.flush()
    if frees_seat(current, locked.status):
        await promote_waitlisted(session, offering)
    if locked.user_id != principal.id:
        change = {"from": current.value, "to": locked.status.value}
        await _record_staff_change(session, principal, AuditAction.ENROLLMENT_STATUS_CHANGED, offering, locked, change)
    return locked


async def complete_enrollment(session: AsyncSession, enrollment_id: int) -> CourseEnrollment | None:
    """ACTIVE → COMPLETED by the platform (course progress reached 100). Idempotent; None if no such enrolment.

    Any other status is left alone (a DROPPED student finishing content does not complete the course).
    """
    enrollment = await repo.get_enrollment_with_course(session, enrollment_id)
    if enrollment is None:
        return None
    offering = await _locked_offering(session, enrollment.course_offering_id)
    locked = await repo.lock_enrollment(session, enrollment_id)
    if locked is None or locked.status is not S.ACTIVE:
        return locked
    check_transition(S.ACTIVE, S.COMPLETED, Actor.SYSTEM)
    locked.status = S.COMPLETED
    locked.completed_at = _now()
    await session.flush()
    # The completion goes to the course line item of every LMS course linked to the offering (lti/).
    await lti_grades.record_completion(
        session,
        enrollment_id=locked.id,
        user_id=locked.user_id,
        offering_id=locked.course_offering_id,
        completed_at=locked.completed_at,
    )
    await promote_waitlisted(session, offering)
    return locked


async def delete_enrollment(session: AsyncSession, principal: Principal, enrollment: CourseEnrollment) -> None:
    offering = await _locked_offering(session, enrollment.course_offering_id)
    deleted = {"status": enrollment.status.value}
    await _record_staff_change(session, principal, AuditAction.ENROLLMENT_DELETED, offering, enrollment, deleted)
    await session.delete(enrollment)
    await session.flush()
    await promote_waitlisted(session, offering)


# --- Lists ---------------------------------------------------------------------------------------------------------


async def roster(
    session: AsyncSession, offering_id: int, status: S | None, params: PageParams
) -> PageResult[CourseEnrollment]:
    """Each entry carries its user (joined in the same query): two queries whatever the roster's size."""
    return await paginate(session, repo.roster_query(offering_id, status), params)


async def my_enrollments(
    session: AsyncSession, user_id: int, status: S | None, params: PageParams
) -> PageResult[CourseEnrollment]:
    return await paginate(session, repo.my_enrollments_query(user_id, status), params)
