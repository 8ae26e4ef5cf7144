"""The tutor policy at three levels — platform (settings), university, course — and its resolution.

Every field of a level may be null ("inherit"); for each field the narrowest level that sets it wins. Courses set
only `enabled` and the two budgets; `chat_visibility` and `support_text` come from the university or the platform.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.courses.models import Course
from twosigma.governance import repository as repo
from twosigma.governance.models import CourseTutorPolicy, UniversityTutorPolicy
from twosigma.governance.schemas import (
    CourseTutorPolicyWrite,
    EffectiveValue,
    Level,
    TutorPolicyRead,
    UniversityTutorPolicyWrite,
)
from twosigma.kit.errors import Forbidden
from twosigma.system_settings.effective import EffectiveSettings
from twosigma.tenancy.models import University

COURSE_FIELDS = ("enabled", "monthly_budget_usd", "user_daily_budget_usd")
POLICY_FIELDS = (*COURSE_FIELDS, "chat_visibility", "support_text")


class TutorDisabled(Forbidden):
    code = "tutor_disabled"
    default_message = "The AI tutor is switched off here."


@dataclass(frozen=True)
class Resolved:
    """A field's value in force and the level it came from."""

    value: Any
    source: Level


@dataclass(frozen=True)
class EffectivePolicy:
    university_id: int | None
    course_id: int | None
    enabled: Resolved
    monthly_budget_usd: Resolved
    user_daily_budget_usd: Resolved
    chat_visibility: Resolved
    support_text: Resolved
    # The university's own monthly budget (platform and university levels only): a course's budget caps the course,
    # and the university's still caps the university.
    university_monthly_budget_usd: Resolved

    def as_dict(self) -> dict[str, EffectiveValue]:
        return {
            name: EffectiveValue(value=getattr(self, name).value, source=getattr(self, name).source)
            for name in POLICY_FIELDS
        }


def _platform(effective: EffectiveSettings) -> dict[str, Any]:
    return {
        "enabled": effective.tutor_enabled,
        "monthly_budget_usd": effective.tutor_monthly_budget_usd,
        "user_daily_budget_usd": effective.tutor_user_daily_budget_usd,
        "chat_visibility": effective.tutor_chat_visibility,
        "support_text": effective.tutor_support_text,
    }


def resolve_levels(
    effective: EffectiveSettings,
    university: UniversityTutorPolicy | None,
    course: CourseTutorPolicy | None,
    *,
    university_id: int | None = None,
    course_id: int | None = None,
) -> EffectivePolicy:
    """Pure: the narrowest level that sets a field wins (None = not set)."""
    platform = _platform(effective)
    fields: dict[str, Resolved] = {}
    for name in POLICY_FIELDS:
        resolved = Resolved(platform[name], "platform")
        if university is not None and getattr(university, name) is not None:
            resolved = Resolved(getattr(university, name), "university")
        if course is not None and name in COURSE_FIELDS and getattr(course, name) is not None:
            resolved = Resolved(getattr(course, name), "course")
        fields[name] = resolved
    university_budget = Resolved(platform["monthly_budget_usd"], "platform")
    if university is not None and university.monthly_budget_usd is not None:
        university_budget = Resolved(university.monthly_budget_usd, "university")
    return EffectivePolicy(
        university_monthly_budget_usd=university_budget, university_id=university_id, course_id=course_id, **fields
    )


async def effective_policy(
    session: AsyncSession, effective: EffectiveSettings, university_id: int | None, course_id: int | None
) -> EffectivePolicy:
    university, course = await repo.policies_of(session, university_id, course_id)
    return resolve_levels(effective, university, course, university_id=university_id, course_id=course_id)


async def policy_for_item(
    session: AsyncSession, effective: EffectiveSettings, content_item_id: int | None
) -> EffectivePolicy:
    """The policy of a chat about `content_item_id`; a chat without an item (or whose item is gone) answers to the
    platform's level only."""
    where = await repo.course_of_item(session, content_item_id) if content_item_id is not None else None
    if where is None:
        return resolve_levels(effective, None, None)
    return await effective_policy(session, effective, where.university_id, where.course_id)


def ensure_enabled(policy: EffectivePolicy) -> None:
    if not policy.enabled.value:
        where = {"platform": "on this platform", "university": "by your university", "course": "for this course"}
        raise TutorDisabled(
            f"The AI tutor is switched off {where[policy.enabled.source]}.",
            details={"source": policy.enabled.source, "course_id": policy.course_id},
        )


async def tutor_enabled_for_course(session: AsyncSession, effective: EffectiveSettings, course: Course) -> bool:
    """For the course tree, so a client can hide the tutor's button."""
    policy = await effective_policy(session, effective, course.university_id, course.id)
    return bool(policy.enabled.value)


# --- The routes ------------------------------------------------------------------------------------------------------


async def read_university_policy(
    session: AsyncSession, effective: EffectiveSettings, university: University, *, with_effective: bool
) -> TutorPolicyRead:
    row = await repo.university_policy(session, university.id)
    values = {name: getattr(row, name) if row else None for name in (*POLICY_FIELDS, "safety_contact_email")}
    read = TutorPolicyRead(level="university", **values)
    if with_effective:
        read.effective = resolve_levels(effective, row, None, university_id=university.id).as_dict()
    return read


async def put_university_policy(
    session: AsyncSession, effective: EffectiveSettings, university: University, body: UniversityTutorPolicyWrite
) -> TutorPolicyRead:
    row = await repo.university_policy(session, university.id)
    if row is None:
        row = UniversityTutorPolicy(university_id=university.id)
        session.add(row)
    for name, value in body.model_dump().items():
        setattr(row, name, value)
    await session.flush()
    return await read_university_policy(session, effective, university, with_effective=True)


async def read_course_policy(
    session: AsyncSession, effective: EffectiveSettings, course: Course, *, with_effective: bool
) -> TutorPolicyRead:
    university, row = await repo.policies_of(session, course.university_id, course.id)
    read = TutorPolicyRead(level="course", **{name: getattr(row, name) if row else None for name in COURSE_FIELDS})
    if with_effective:
        read.effective = resolve_levels(
            effective, university, row, university_id=course.university_id, course_id=course.id
        ).as_dict()
    return read


async def put_course_policy(
    session: AsyncSession, effective: EffectiveSettings, course: Course, body: CourseTutorPolicyWrite
) -> TutorPolicyRead:
    row = await repo.course_policy(session, course.id)
    if row is None:
        row = CourseTutorPolicy(course_id=course.id)
        session.add(row)
    for name, value in body.model_dump().items():
        setattr(row, name, value)
    await session.flush()
    return await read_course_policy(session, effective, course, with_effective=True)
