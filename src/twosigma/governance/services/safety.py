"""Safety flags: a screen's hits stored on the message, shown to its owner in `meta.safety`, and — severity high —
escalated: the reply carries the policy's support text, the flag is listed for the course's instructors and the
university's admins, and (SMTP configured, a safety contact set) mailed to the university's safety contact."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.config import Settings
from twosigma.governance import repository as repo
from twosigma.governance.models import TutorFlag
from twosigma.governance.services.moderation import HIGH, Hit
from twosigma.governance.services.policy import EffectivePolicy
from twosigma.mail import service as mail
from twosigma.system_settings.effective import EffectiveSettings
from twosigma.tenancy.models import University

INPUT = "input"
OUTPUT = "output"
NOTICE = (
    "This message was flagged as possibly about harm to yourself or others. A person responsible for safety at "
    "your university will be notified and may contact you."
)


def escalates(hits: Sequence[Hit]) -> bool:
    return any(hit.severity == HIGH for hit in hits)


def safety_meta(hits: Sequence[Hit], screen: str, *, escalated_to: int | None) -> dict[str, Any]:
    """`meta.safety` as the message's owner reads it: what was flagged and whether a person will be told."""
    notified = escalates(hits) and escalated_to is not None
    data: dict[str, Any] = {
        "screen": screen,
        "flags": [{"category": hit.category, "severity": hit.severity} for hit in hits],
        "person_notified": notified,
    }
    if notified:
        data["notice"] = NOTICE
    return data


def support_block(policy: EffectivePolicy) -> str:
    return "\n\n" + str(policy.support_text.value)


async def record_flags(
    session: AsyncSession,
    settings: Settings,
    effective: EffectiveSettings,
    policy: EffectivePolicy,
    *,
    chat_session_id: int,
    message_id: int,
    user_id: int,
    hits: Sequence[Hit],
    screen: str,
    now: datetime,
) -> None:
    """The flags of one message, in the caller's transaction; a high one also mails the safety contact (outbox)."""
    if not hits:
        return
    for hit in hits:
        await repo.add_flag(
            session,
            TutorFlag(
                message_id=message_id,
                session_id=chat_session_id,
                user_id=user_id,
                university_id=policy.university_id,
                course_id=policy.course_id,
                category=hit.category,
                severity=hit.severity,
                screen=screen,
                source=hit.source,
                escalated=hit.severity == HIGH and policy.university_id is not None,
                created_at=now,
            ),
        )
    if escalates(hits) and policy.university_id is not None and effective.mail_smtp_host:
        await _mail_safety_contact(session, settings, policy.university_id, hits, message_id, screen)


async def _mail_safety_contact(
    session: AsyncSession, settings: Settings, university_id: int, hits: Sequence[Hit], message_id: int, screen: str
) -> None:
    row = await repo.university_policy(session, university_id)
    if row is None or not row.safety_contact_email:
        return
    university = await session.get(University, university_id)
    category = ", ".join(sorted({hit.category for hit in hits if hit.severity == HIGH}))
    link = f"{settings.public_base_url.rstrip('/')}/api/v1/universities/{university_id}/tutor-flags?status=open"
    await mail.enqueue(
        session,
        recipient=row.safety_contact_email,
        template="tutor_safety_flag",
        locale=None,
        link=link,
        values={"university": university.name if university else str(university_id), "category": category},
        idempotency_key=f"tutor-flag:{message_id}:{screen}",
    )
