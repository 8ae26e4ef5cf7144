"""The audit log of membership administration: grants, revocations, suspensions, invitations, staff enrolments."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from twosigma.db.base import Base, created_at_column


class AuditAction(StrEnum):
    """What is recorded. Stored as text (not a database enum), so a new action needs no migration."""

    ROLE_GRANTED = "role.granted"
    ROLE_REVOKED = "role.revoked"
    MEMBER_SUSPENDED = "member.suspended"
    MEMBER_REINSTATED = "member.reinstated"  # a suspension lifted
    INVITATION_CREATED = "invitation.created"
    INVITATION_ACCEPTED = "invitation.accepted"
    INVITATION_DECLINED = "invitation.declined"
    INVITATION_REVOKED = "invitation.revoked"
    ENROLLMENT_CREATED = "enrollment.created"  # by staff (self-enrolment is the student's own business)
    ENROLLMENT_STATUS_CHANGED = "enrollment.status_changed"  # by staff, of someone else's enrolment
    ENROLLMENT_DELETED = "enrollment.deleted"
    ACCOUNT_DEACTIVATED = "account.deactivated"  # platform-level: no university
    ACCOUNT_REACTIVATED = "account.reactivated"
    ACCOUNT_ERASED = "account.erased"  # platform-level; the target is the anonymous tombstone's id
    CHAT_READ = "chat.read"  # a staff member read a student's tutor chat (issue 22); resource: the chat session


class AuditEvent(Base):
    """One thing someone did, written in the same transaction as the thing itself.

    The ids here are plain integers, not foreign keys, and the people involved are also kept as text (their email
    at the time): deleting a user, a grant, an enrolment or even the university must not erase or rewrite the
    trail of what was done.
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        # A university's log, newest first (the only read); `action` filters within it.
        Index(None, "university_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    university_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: platform-level (accounts)
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    actor_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    actor_email: Mapped[str | None] = mapped_column(String(255), nullable=True)
    target_user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    target_email: Mapped[str | None] = mapped_column(String(255), nullable=True)
    resource_type: Mapped[str | None] = mapped_column(String(32), nullable=True)  # "grant", "invitation", ...
    resource_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default=text("'{}'::jsonb"))
    created_at: Mapped[datetime] = created_at_column()
