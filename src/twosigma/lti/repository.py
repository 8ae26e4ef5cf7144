"""Every query of the lti domain."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.content.models import ContentItem, Module
from twosigma.courses.models import Course, CourseOffering
from twosigma.db.base import Base
from twosigma.enrollments.models import CourseEnrollment
from twosigma.jobs.queue import JobTable
from twosigma.lti.models import (
    LtiContext,
    LtiDeepLink,
    LtiIdentity,
    LtiLaunchCode,
    LtiLineItem,
    LtiLoginState,
    LtiPendingLink,
    LtiPlatform,
    LtiRegistrationLink,
    LtiScoreSend,
    LtiToolKey,
)
from twosigma.taxonomy.models import ContentType
from twosigma.tenancy.models import University

# pg_advisory_xact_lock key: one process at a time creates or rotates the tool's key.
_KEY_LOCK = 0x4C5449  # "LTI"


async def add(session: AsyncSession, row: Base) -> None:
    session.add(row)
    await session.flush()


async def delete_row(session: AsyncSession, row: Base) -> None:
    await session.delete(row)
    await session.flush()


# --- The tool's keys -----------------------------------------------------------------------------------------------


async def lock_keys(session: AsyncSession) -> None:
    await session.execute(select(func.pg_advisory_xact_lock(_KEY_LOCK)))


async def all_keys(session: AsyncSession, *, for_update: bool) -> Sequence[LtiToolKey]:
    stmt = select(LtiToolKey).order_by(LtiToolKey.id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.scalars(stmt)).all()


async def signing_key(session: AsyncSession) -> LtiToolKey | None:
    result = await session.scalars(
        select(LtiToolKey).where(LtiToolKey.retired_at.is_(None)).order_by(LtiToolKey.id.desc()).limit(1)
    )
    return result.first()


async def published_keys(session: AsyncSession, retired_after: datetime) -> Sequence[LtiToolKey]:
    result = await session.scalars(
        select(LtiToolKey)
        .where(or_(LtiToolKey.retired_at.is_(None), LtiToolKey.retired_at > retired_after))
        .order_by(LtiToolKey.id)
    )
    return result.all()


async def retire_keys(session: AsyncSession, now: datetime) -> None:
    for key in await session.scalars(select(LtiToolKey).where(LtiToolKey.retired_at.is_(None))):
        key.retired_at = now
    await session.flush()


# --- Platforms -----------------------------------------------------------------------------------------------------


async def enabled_platforms(session: AsyncSession) -> Sequence[Any]:
    """(short code of the university, issuer, client id, JWKS URL) of every enabled platform."""
    stmt = (
        select(University.short_code, LtiPlatform.issuer, LtiPlatform.client_id, LtiPlatform.jwks_url)
        .join(University, University.id == LtiPlatform.university_id)
        .where(LtiPlatform.enabled.is_(True))
        .order_by(University.short_code, LtiPlatform.id)
    )
    return (await session.execute(stmt)).all()


async def platforms_of(session: AsyncSession, university_id: int) -> Sequence[LtiPlatform]:
    result = await session.scalars(
        select(LtiPlatform).where(LtiPlatform.university_id == university_id).order_by(LtiPlatform.id)
    )
    return result.all()


async def get_platform(session: AsyncSession, platform_id: int) -> LtiPlatform | None:
    return await session.get(LtiPlatform, platform_id)


async def platform_by_client(session: AsyncSession, issuer: str, client_id: str) -> LtiPlatform | None:
    result = await session.scalars(
        select(LtiPlatform).where(LtiPlatform.issuer == issuer, LtiPlatform.client_id == client_id)
    )
    return result.first()


async def enabled_platforms_of_issuer(session: AsyncSession, issuer: str) -> Sequence[LtiPlatform]:
    result = await session.scalars(
        select(LtiPlatform)
        .where(LtiPlatform.issuer == issuer, LtiPlatform.enabled.is_(True))
        .order_by(LtiPlatform.id)
        .limit(100)
    )
    return result.all()


# --- One launch ----------------------------------------------------------------------------------------------------


async def add_state(session: AsyncSession, row: LtiLoginState, now: datetime) -> None:
    """Store a login state, dropping expired ones (each login removes what logins before it left behind)."""
    await session.execute(delete(LtiLoginState).where(LtiLoginState.expires_at <= now))
    await add(session, row)


async def take_state(session: AsyncSession, state_hash: str) -> LtiLoginState | None:
    """Delete and return the state: whoever gets it, only once."""
    result = await session.scalars(
        delete(LtiLoginState).where(LtiLoginState.state_hash == state_hash).returning(LtiLoginState)
    )
    return result.first()


async def add_code(session: AsyncSession, row: LtiLaunchCode, now: datetime) -> None:
    await session.execute(delete(LtiLaunchCode).where(LtiLaunchCode.expires_at <= now))
    await add(session, row)


async def peek_code(session: AsyncSession, code_hash: str) -> LtiLaunchCode | None:
    result = await session.scalars(select(LtiLaunchCode).where(LtiLaunchCode.code_hash == code_hash))
    return result.first()


async def take_code(session: AsyncSession, code_hash: str) -> LtiLaunchCode | None:
    result = await session.scalars(
        delete(LtiLaunchCode).where(LtiLaunchCode.code_hash == code_hash).returning(LtiLaunchCode)
    )
    return result.first()


async def add_pending(session: AsyncSession, row: LtiPendingLink, now: datetime) -> None:
    await session.execute(delete(LtiPendingLink).where(LtiPendingLink.expires_at <= now))
    await add(session, row)


async def peek_pending(session: AsyncSession, token_hash: str) -> LtiPendingLink | None:
    result = await session.scalars(select(LtiPendingLink).where(LtiPendingLink.token_hash == token_hash))
    return result.first()


async def take_pending(session: AsyncSession, token_hash: str) -> LtiPendingLink | None:
    result = await session.scalars(
        delete(LtiPendingLink).where(LtiPendingLink.token_hash == token_hash).returning(LtiPendingLink)
    )
    return result.first()


# --- Identities and contexts ---------------------------------------------------------------------------------------


async def get_identity(session: AsyncSession, platform_id: int, subject: str) -> LtiIdentity | None:
    """The identity a platform registration created: never looked up by issuer (platforms share issuers)."""
    result = await session.scalars(
        select(LtiIdentity).where(LtiIdentity.platform_id == platform_id, LtiIdentity.subject == subject)
    )
    return result.first()


async def get_context(session: AsyncSession, platform_id: int, context_id: str) -> LtiContext | None:
    result = await session.scalars(
        select(LtiContext).where(LtiContext.platform_id == platform_id, LtiContext.context_id == context_id)
    )
    return result.first()


async def department_of_offering(session: AsyncSession, offering_id: int) -> int | None:
    """The department of the offering's course (None: the course has none)."""
    stmt = select(Course.department_id).join(CourseOffering, CourseOffering.course_id == Course.id)
    return (await session.scalars(stmt.where(CourseOffering.id == offering_id))).first()


async def contexts_of_offering(session: AsyncSession, offering_id: int) -> Sequence[LtiContext]:
    result = await session.scalars(
        select(LtiContext).where(LtiContext.course_offering_id == offering_id).order_by(LtiContext.id)
    )
    return result.all()


async def erase_user(session: AsyncSession, user_id: int) -> None:
    for model in (LtiIdentity, LtiLaunchCode, LtiPendingLink):
        await session.execute(delete(model).where(model.user_id == user_id))


async def offerings_and_courses_of(
    session: AsyncSession, university_id: int
) -> tuple[Sequence[CourseOffering], Sequence[Course]]:
    offerings = await session.scalars(
        select(CourseOffering).where(CourseOffering.university_id == university_id).order_by(CourseOffering.id)
    )
    courses = await session.scalars(select(Course).where(Course.university_id == university_id).order_by(Course.id))
    return offerings.all(), courses.all()


# --- Assignment and Grade Services ---------------------------------------------------------------------------------

SCORES = JobTable(
    LtiScoreSend.__table__,  # type: ignore[arg-type]
    pending="PENDING",
    running="SENDING",
    done="SENT",
    failed="FAILED",
    max_attempts=8,
    # A score whose worker vanished mid-post is not posted again by the queue (its outcome is unknown).
    reclaim_expired=False,
)


async def bind_line_item(session: AsyncSession, context_row_id: int, item_id: int, lineitem_url: str) -> None:
    stmt = insert(LtiLineItem).values(lti_context_id=context_row_id, content_item_id=item_id, lineitem_url=lineitem_url)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["lti_context_id", "content_item_id"],
            set_={"lineitem_url": stmt.excluded.lineitem_url, "updated_at": func.now()},
        )
    )


async def bind_course_line_item(session: AsyncSession, context_row_id: int, lineitem_url: str) -> None:
    """The course's line item (no item): one per linked course, so the context row is locked while it is set."""
    await session.execute(select(LtiContext.id).where(LtiContext.id == context_row_id).with_for_update())
    existing = (
        await session.scalars(
            select(LtiLineItem).where(
                LtiLineItem.lti_context_id == context_row_id, LtiLineItem.content_item_id.is_(None)
            )
        )
    ).first()
    if existing is None:
        await add(session, LtiLineItem(lti_context_id=context_row_id, content_item_id=None, lineitem_url=lineitem_url))
    elif existing.lineitem_url != lineitem_url:
        existing.lineitem_url = lineitem_url
        await session.flush()


async def score_targets(session: AsyncSession, user_id: int, offering_id: int, item_id: int | None) -> Sequence[Any]:
    """(line item id, the user's subject at its platform) for every line item of the item (None: the course line
    item) in a course linked to the offering, where the user has an identity at that course's platform."""
    stmt = (
        select(LtiLineItem.id.label("line_item_id"), LtiIdentity.subject.label("subject"))
        .join(LtiContext, LtiContext.id == LtiLineItem.lti_context_id)
        .join(LtiIdentity, LtiIdentity.platform_id == LtiContext.platform_id)
        .where(
            LtiContext.course_offering_id == offering_id,
            LtiLineItem.content_item_id.is_(None) if item_id is None else LtiLineItem.content_item_id == item_id,
            LtiIdentity.user_id == user_id,
        )
        .order_by(LtiLineItem.id)
    )
    return (await session.execute(stmt)).all()


async def add_score(session: AsyncSession, values: dict[str, Any]) -> None:
    """Queue a score unless this attempt's (or this completion's) score for this line item is queued already."""
    cause = "quiz_attempt_id" if values.get("quiz_attempt_id") is not None else "course_enrollment_id"
    await session.execute(
        insert(LtiScoreSend).values(**values).on_conflict_do_nothing(index_elements=["line_item_id", cause])
    )


async def scores_to_send(session: AsyncSession, ids: Sequence[int]) -> Sequence[Any]:
    stmt = (
        select(
            LtiScoreSend.id,
            LtiScoreSend.payload,
            LtiLineItem.lineitem_url,
            LtiPlatform.id.label("platform_id"),
            LtiPlatform.client_id,
            LtiPlatform.auth_token_url,
        )
        .join(LtiLineItem, LtiLineItem.id == LtiScoreSend.line_item_id)
        .join(LtiContext, LtiContext.id == LtiLineItem.lti_context_id)
        .join(LtiPlatform, LtiPlatform.id == LtiContext.platform_id)
        .where(LtiScoreSend.id.in_(ids))
        .order_by(LtiScoreSend.id)
    )
    return (await session.execute(stmt)).all()


async def score_sends_of(session: AsyncSession, offering_id: int, limit: int) -> Sequence[Any]:
    stmt = (
        select(
            LtiScoreSend.id,
            LtiScoreSend.quiz_attempt_id,
            LtiScoreSend.course_enrollment_id,
            LtiScoreSend.user_id,
            LtiLineItem.content_item_id,
            LtiScoreSend.status,
            LtiScoreSend.attempts,
            LtiScoreSend.last_error,
            LtiScoreSend.created_at,
            LtiScoreSend.sent_at,
        )
        .join(LtiLineItem, LtiLineItem.id == LtiScoreSend.line_item_id)
        .join(LtiContext, LtiContext.id == LtiLineItem.lti_context_id)
        .where(LtiContext.course_offering_id == offering_id)
        .order_by(LtiScoreSend.id.desc())
        .limit(limit)
    )
    return (await session.execute(stmt)).all()


async def score_counts_of(session: AsyncSession, offering_id: int) -> dict[str, int]:
    stmt = (
        select(LtiScoreSend.status, func.count().label("n"))
        .join(LtiLineItem, LtiLineItem.id == LtiScoreSend.line_item_id)
        .join(LtiContext, LtiContext.id == LtiLineItem.lti_context_id)
        .where(LtiContext.course_offering_id == offering_id)
        .group_by(LtiScoreSend.status)
    )
    return {row.status: int(row.n) for row in (await session.execute(stmt)).all()}


# --- Names and Role Provisioning ----------------------------------------------------------------------------------


async def enrolled_from_platform(session: AsyncSession, platform_id: int, offering_id: int) -> set[int]:
    """Users with an ACTIVE, PENDING or WAITLISTED enrolment in the offering who have an identity at the platform."""
    stmt = (
        select(CourseEnrollment.user_id)
        .join(LtiIdentity, LtiIdentity.user_id == CourseEnrollment.user_id)
        .where(
            LtiIdentity.platform_id == platform_id,
            CourseEnrollment.course_offering_id == offering_id,
            CourseEnrollment.status.in_(("ACTIVE", "PENDING", "WAITLISTED")),
        )
    )
    return set((await session.scalars(stmt)).all())


async def claim_due_contexts(session: AsyncSession, due_before: datetime, now: datetime, limit: int) -> list[int]:
    """Claim up to `limit` linked courses whose roster sync is due (never synced, or last before `due_before`):
    their sync time is set to `now` at once, so other workers skip them."""
    picked = (
        select(LtiContext.id)
        .join(LtiPlatform, LtiPlatform.id == LtiContext.platform_id)
        .where(
            LtiContext.memberships_url.is_not(None),
            LtiPlatform.enabled.is_(True),
            or_(LtiContext.roster_synced_at.is_(None), LtiContext.roster_synced_at < due_before),
        )
        .order_by(LtiContext.roster_synced_at.nulls_first(), LtiContext.id)
        .limit(limit)
        .with_for_update(of=LtiContext, skip_locked=True)
    )
    ids = list((await session.scalars(picked)).all())
    for context in (await session.scalars(select(LtiContext).where(LtiContext.id.in_(ids)))).all():
        context.roster_synced_at = now
    await session.flush()
    return ids


# --- Deep linking --------------------------------------------------------------------------------------------------


async def add_deep_link(session: AsyncSession, row: LtiDeepLink, now: datetime) -> None:
    await session.execute(delete(LtiDeepLink).where(LtiDeepLink.expires_at <= now))
    await add(session, row)


async def take_deep_link(session: AsyncSession, token_hash: str) -> LtiDeepLink | None:
    result = await session.scalars(
        delete(LtiDeepLink).where(LtiDeepLink.token_hash == token_hash).returning(LtiDeepLink)
    )
    return result.first()


async def items_of_courses(session: AsyncSession, course_ids: Sequence[int]) -> Sequence[Any]:
    """Every item of the courses: (course id, module title, item id, item title, gradable), in course and tree
    order."""
    stmt = (
        select(
            ContentItem.course_id,
            Module.title.label("module_title"),
            ContentItem.id,
            ContentItem.title,
            ContentType.gradable,
        )
        .join(Module, Module.id == ContentItem.module_id)
        .join(ContentType, ContentType.id == ContentItem.content_type_id)
        .where(ContentItem.course_id.in_(course_ids))
        .order_by(ContentItem.course_id, Module.id, ContentItem.id)
    )
    return (await session.execute(stmt)).all()


# --- Dynamic registration ------------------------------------------------------------------------------------------


async def registration_link_for_update(session: AsyncSession, token_hash: str) -> LtiRegistrationLink | None:
    result = await session.scalars(
        select(LtiRegistrationLink).where(LtiRegistrationLink.token_hash == token_hash).with_for_update()
    )
    return result.first()
