"""LTI 1.3 (tool side): the platforms a university registered, the tool's signing keys, the short-lived rows of one
launch (its login state, its one-time code, an instructor's pending context link), the identities platforms
asserted and the LMS contexts linked to offerings (docs/lti.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from twosigma.db.base import Base, created_at_column, updated_at_column


class LtiToolKey(Base):
    """One RSA key of the tool. The newest unretired key signs; retired keys stay published for a while
    (`services/keys.py` `RETIRED_KEY_PUBLISHED_FOR`) so tokens signed just before a rotation still verify."""

    __tablename__ = "lti_tool_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    # The private JWK as JSON, Fernet-encrypted under TWOSIGMA_ENCRYPTION_KEYS (system_settings/crypto.py).
    private_key_encrypted: Mapped[str] = mapped_column(Text, nullable=False)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    created_at: Mapped[datetime] = created_at_column()
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class LtiPlatform(Base):
    """A platform (an LMS) registered by a university: one `(issuer, client_id)` belongs to one university."""

    __tablename__ = "lti_platforms"
    __table_args__ = (UniqueConstraint("issuer", "client_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    university_id: Mapped[int] = mapped_column(
        ForeignKey("universities.id", ondelete="CASCADE"), nullable=False, index=True
    )
    issuer: Mapped[str] = mapped_column(String(500), nullable=False)
    client_id: Mapped[str] = mapped_column(String(255), nullable=False)
    deployment_ids: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default=text("'{}'::text[]"))
    auth_login_url: Mapped[str] = mapped_column(String(1000), nullable=False)
    auth_token_url: Mapped[str] = mapped_column(String(1000), nullable=False)
    jwks_url: Mapped[str] = mapped_column(String(1000), nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=true())
    # The institution/system Administrator role the platform asserts makes a university admin only when true.
    grant_admin_role: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=false())
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class LtiLoginState(Base):
    """One OIDC login in flight: found by the SHA-256 of its `state`, deleted by the launch that uses it."""

    __tablename__ = "lti_login_states"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    platform_id: Mapped[int] = mapped_column(
        ForeignKey("lti_platforms.id", ondelete="CASCADE"), nullable=False, index=True
    )
    nonce: Mapped[str] = mapped_column(String(128), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    created_at: Mapped[datetime] = created_at_column()


class LtiIdentity(Base):
    """A user as a platform registration knows them: `(platform_id, subject)` is the only key a launch is matched by
    (never the issuer alone: platforms of several universities may share one issuer, docs/lti.md "Security")."""

    __tablename__ = "lti_identities"
    __table_args__ = (UniqueConstraint("platform_id", "subject"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    platform_id: Mapped[int] = mapped_column(
        ForeignKey("lti_platforms.id", ondelete="CASCADE"), nullable=False, index=True
    )
    issuer: Mapped[str] = mapped_column(String(500), nullable=False)
    subject: Mapped[str] = mapped_column(String(255), nullable=False)
    created_at: Mapped[datetime] = created_at_column()
    last_launch_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class LtiContext(Base):
    """An LMS course (a context) of a platform, linked to one offering of the platform's university."""

    __tablename__ = "lti_contexts"
    __table_args__ = (UniqueConstraint("platform_id", "context_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platforms.id", ondelete="CASCADE"), nullable=False)
    context_id: Mapped[str] = mapped_column(String(255), nullable=False)
    course_offering_id: Mapped[int] = mapped_column(
        ForeignKey("course_offerings.id", ondelete="CASCADE"), nullable=False, index=True
    )
    title: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # The NRPS claim's `context_memberships_url` of the latest launch that carried one.
    memberships_url: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    # When the scheduled roster sync (lti.roster_sync_hours) last took this course up.
    roster_synced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class LtiLaunchCode(Base):
    """The one-time code a launch hands the browser (stored as its SHA-256, 60 seconds), and the origins that may
    frame the page it opens."""

    __tablename__ = "lti_launch_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    frame_origins: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default=text("'{}'::text[]"))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    created_at: Mapped[datetime] = created_at_column()


class LtiPendingLink(Base):
    """An instructor's verified launch into a context no offering is linked to yet: the page that asks which
    offering carries its token (stored as its SHA-256, 10 minutes, single use)."""

    __tablename__ = "lti_pending_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    platform_id: Mapped[int] = mapped_column(
        ForeignKey("lti_platforms.id", ondelete="CASCADE"), nullable=False, index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    context_id: Mapped[str] = mapped_column(String(255), nullable=False)
    context_title: Mapped[str | None] = mapped_column(String(255), nullable=True)
    memberships_url: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    content_item_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    frame_origins: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default=text("'{}'::text[]"))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    created_at: Mapped[datetime] = created_at_column()


class LtiDeepLink(Base):
    """An instructor's verified deep-linking request: the picker page carries its token (stored as its SHA-256,
    30 minutes, single use); the response goes to `return_url` with `data` echoed."""

    __tablename__ = "lti_deep_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    platform_id: Mapped[int] = mapped_column(
        ForeignKey("lti_platforms.id", ondelete="CASCADE"), nullable=False, index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    deployment_id: Mapped[str] = mapped_column(String(255), nullable=False)
    return_url: Mapped[str] = mapped_column(String(1000), nullable=False)
    # The request's `data` as JSON text, echoed in the response.
    data: Mapped[str | None] = mapped_column(Text, nullable=True)
    frame_origins: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default=text("'{}'::text[]"))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    created_at: Mapped[datetime] = created_at_column()


class LtiRegistrationLink(Base):
    """A dynamic registration link a university's admin made: its token (stored as its SHA-256) lets one LMS
    register itself for the university, once, before `expires_at`."""

    __tablename__ = "lti_registration_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    university_id: Mapped[int] = mapped_column(
        ForeignKey("universities.id", ondelete="CASCADE"), nullable=False, index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
    )
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    platform_id: Mapped[int | None] = mapped_column(
        ForeignKey("lti_platforms.id", ondelete="SET NULL"), nullable=True, index=True
    )
    created_at: Mapped[datetime] = created_at_column()


class LtiLineItem(Base):
    """The platform's line item (a gradebook column) that an item's scores go to in one linked LMS course: bound by
    a launch whose AGS claim names a `lineitem` for the launched item. Without an item it is the course's line item,
    which course completion goes to (one per course, kept so by `repository.bind_course_line_item`)."""

    __tablename__ = "lti_line_items"
    __table_args__ = (UniqueConstraint("lti_context_id", "content_item_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lti_context_id: Mapped[int] = mapped_column(ForeignKey("lti_contexts.id", ondelete="CASCADE"), nullable=False)
    content_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("content_items.id", ondelete="CASCADE"), nullable=True, index=True
    )
    lineitem_url: Mapped[str] = mapped_column(String(1000), nullable=False)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class LtiScoreSend(Base):
    """One score to post to a line item (the AGS outbox, drained by the `lti-scores` job queue): written in the
    transaction that graded the attempt, one per attempt and line item."""

    __tablename__ = "lti_score_sends"
    __table_args__ = (
        UniqueConstraint("line_item_id", "quiz_attempt_id"),
        UniqueConstraint("line_item_id", "course_enrollment_id"),
        CheckConstraint("status IN ('PENDING', 'SENDING', 'SENT', 'FAILED')", name="status_known"),
        Index(None, "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    line_item_id: Mapped[int] = mapped_column(ForeignKey("lti_line_items.id", ondelete="CASCADE"), nullable=False)
    # The graded attempt, or (for the course line item) the enrolment whose completion is reported.
    quiz_attempt_id: Mapped[int | None] = mapped_column(
        ForeignKey("quiz_attempts.id", ondelete="CASCADE"), nullable=True, index=True
    )
    course_enrollment_id: Mapped[int | None] = mapped_column(
        ForeignKey("course_enrollments.id", ondelete="CASCADE"), nullable=True, index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    # The AGS score as posted: scoreGiven, scoreMaximum, activityProgress, gradingProgress, timestamp, userId.
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, server_default=text("'PENDING'"))
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = created_at_column()
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
