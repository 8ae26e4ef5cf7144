"""Tutor governance: who sets a university's or a course's tutor policy, reads its usage and handles its flags."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.authz import policy
from twosigma.authz.access.analytics import analytics_scope
from twosigma.authz.principal import Principal
from twosigma.courses import repository as courses_repo
from twosigma.courses.models import Course
from twosigma.enums import UserRole
from twosigma.governance import repository as governance_repo
from twosigma.governance.services import policy as policy_service
from twosigma.kit.errors import not_found
from twosigma.system_settings.effective import EffectiveSettings
from twosigma.tenancy import repository as tenancy_repo
from twosigma.tenancy.models import University
from twosigma.tutor.models import ChatSession


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


# --- Staff reading a student's chat (chat_visibility) ---------------------------------------------------------------


@dataclass(frozen=True)
class ChatReading:
    """A chat the caller may read: their own, or a student's under the policy's `chat_visibility`.
    `message_ids`: None = every message; otherwise only these (private mode: flagged messages and the one before
    each). `university_id` of a staff read, for its audit entry."""

    chat: ChatSession
    staff: bool
    message_ids: frozenset[int] | None = None
    university_id: int | None = None


def _handles_flags(p: Principal, university_id: int, department_id: int | None) -> bool:
    if policy.administers_university(p, university_id):
        return True
    return any(
        g.role in FLAG_ROLES
        and ((g.department_id is None and g.role is UserRole.INSTRUCTOR) or g.department_id == department_id)
        for g in p.grants_in(university_id)
    )


async def readable_chat(
    session: AsyncSession, p: Principal, session_id: int, effective: EffectiveSettings
) -> ChatReading:
    """The owner always; staff by the course's `chat_visibility`:
    - `course`: staff who see the course's progress (`can_view_course_staff_data`) read every chat of the course;
    - `flagged`: who handles the course's flags (its admins, instructors) read a chat with an escalated flag;
    - `private` (default): the same people read only the flagged messages and the message before each.
    Anyone else — and every chat without a course — is a 404, as before (SPEC §4)."""
    chat = await governance_repo.chat_session(session, session_id)
    if chat is not None and chat.user_id == p.id:
        return ChatReading(chat, staff=False)
    where = None
    if chat is not None and chat.content_item_id is not None:
        where = await governance_repo.course_of_item(session, chat.content_item_id)
    if chat is None or where is None or not policy.is_staff(p, where.university_id):
        raise not_found("Chat session", code="chat_session_not_found")
    resolved = await policy_service.effective_policy(session, effective, where.university_id, where.course_id)
    mode = resolved.chat_visibility.value
    if mode == "course" and policy.can_view_course_staff_data(p, where.university_id, where.department_id):
        return ChatReading(chat, staff=True, university_id=where.university_id)
    if _handles_flags(p, where.university_id, where.department_id):
        flagged = await governance_repo.escalated_message_ids(session, chat.id)
        if flagged and mode in ("flagged", "course"):
            return ChatReading(chat, staff=True, university_id=where.university_id)
        if flagged:
            ids = await governance_repo.with_previous(session, chat.id, flagged)
            return ChatReading(chat, staff=True, message_ids=ids, university_id=where.university_id)
    raise not_found("Chat session", code="chat_session_not_found")


async def insight_course(p: Principal, course: Course) -> Course:
    """A course's tutor insights: the staff who see its progress (404 outsiders, 403 other members)."""
    policy.ensure(
        policy.can_view_course_staff_data(p, course.university_id, course.department_id), p, course.university_id
    )
    return course
