"""Instructor oversight with privacy: staff reads of a student's chat (decided in authz/access/governance.py
`readable_chat`) are written to the audit log, the student lists them, and staff get aggregate insight per course."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.audit import service as audit
from twosigma.audit.models import AuditAction
from twosigma.authz.access.governance import ChatReading
from twosigma.authz.principal import Principal
from twosigma.courses.models import Course
from twosigma.governance import repository as repo
from twosigma.governance.schemas import ChatReadEvent, ItemInsight, TopTerm, TutorInsights
from twosigma.governance.services.policy import effective_policy
from twosigma.kit.pagination import PageParams, PageResult
from twosigma.system_settings.effective import EffectiveSettings
from twosigma.tutor.models import ChatMessage, ChatSession

RESOURCE = "chat_session"
TOP_TERMS = 20
MIN_SESSIONS = {"private": 3, "flagged": 2, "course": 1}  # a term must come from this many chats to be shown


async def audit_read(session: AsyncSession, principal: Principal, reading: ChatReading, what: str) -> None:
    """Every staff read of a student's chat: actor, session, when (the owner's own reads are not recorded)."""
    if not reading.staff:
        return
    await audit.record(
        session,
        AuditAction.CHAT_READ,
        actor=principal,
        university_id=reading.university_id,
        target_user_id=reading.chat.user_id,
        resource=(RESOURCE, reading.chat.id),
        details={"read": what, "scope": "flagged_messages" if reading.message_ids is not None else "session"},
    )


async def visible_messages(session: AsyncSession, reading: ChatReading) -> Sequence[ChatMessage] | None:
    """The messages a private-mode read may see (newest first); None when the read sees every message."""
    if reading.message_ids is None:
        return None
    return await repo.messages_by_id(session, reading.chat.id, reading.message_ids)


async def chat_reads(session: AsyncSession, chat: ChatSession, params: PageParams) -> PageResult[ChatReadEvent]:
    page = await audit.resource_log(session, (RESOURCE, chat.id), AuditAction.CHAT_READ, params)
    items = [
        ChatReadEvent(
            reader_id=event.actor_id,
            reader_email=event.actor_email,
            read=str(event.details.get("read", "")),
            at=event.created_at,
        )
        for event in page.items
    ]
    return PageResult(items=items, page=page.page, limit=page.limit, total=page.total)


async def insights(session: AsyncSession, effective: EffectiveSettings, course: Course) -> TutorInsights:
    """Per content item the sessions and turns; the top terms of the students' messages (full text), each from
    several chats in `private` mode so that no single student's words surface. Never message text."""
    policy = await effective_policy(session, effective, course.university_id, course.id)
    mode = str(policy.chat_visibility.value)
    items = [
        ItemInsight(
            content_item_id=row.content_item_id, title=row.title, sessions=int(row.sessions), turns=int(row.turns)
        )
        for row in await repo.item_activity(session, course.id)
    ]
    terms = [
        TopTerm(term=row.term, uses=int(row.uses), sessions=int(row.sessions))
        for row in await repo.top_terms(session, course.id, TOP_TERMS, MIN_SESSIONS.get(mode, 3))
    ]
    return TutorInsights.model_validate(
        {"course_id": course.id, "chat_visibility": mode, "items": items, "top_terms": terms}
    )
