"""Tutor governance: the tutor policy of a university and of a course, and the cost ledger of tutor turns.

The platform's level of the policy is runtime settings (`tutor.enabled`, `tutor.monthly_budget_usd`, ...); these
tables hold the two narrower levels. Every policy column is nullable: NULL means "inherit from the level above".
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from twosigma.db.base import Base, created_at_column, updated_at_column


class UniversityTutorPolicy(Base):
    __tablename__ = "university_tutor_policies"

    university_id: Mapped[int] = mapped_column(
        ForeignKey("universities.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    enabled: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    monthly_budget_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    user_daily_budget_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    chat_visibility: Mapped[str | None] = mapped_column(String(16), nullable=True)
    support_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Where high-severity safety flags are mailed (when SMTP is configured); not part of the inherited policy.
    safety_contact_email: Mapped[str | None] = mapped_column(String(255), nullable=True)
    updated_at: Mapped[datetime] = updated_at_column()


class CourseTutorPolicy(Base):
    __tablename__ = "course_tutor_policies"

    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    enabled: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    monthly_budget_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    user_daily_budget_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    updated_at: Mapped[datetime] = updated_at_column()


class TutorUsage(Base):
    """One row per answered tutor turn: what it cost and whom it is charged to. Rows outlive the chat (budgets and
    reports need them): a deleted user, course or message leaves the row with NULL there."""

    __tablename__ = "tutor_usage"
    __table_args__ = (
        Index(None, "user_id", "created_at"),
        Index(None, "course_id", "created_at"),
        Index(None, "university_id", "created_at"),
        Index(None, "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id", ondelete="SET NULL"), nullable=True)
    university_id: Mapped[int | None] = mapped_column(ForeignKey("universities.id", ondelete="SET NULL"), nullable=True)
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("chat_messages.id", ondelete="SET NULL"), nullable=True, index=True
    )
    provider: Mapped[str | None] = mapped_column(String(32), nullable=True)
    model: Mapped[str] = mapped_column(String(255), nullable=False)
    input_tokens: Mapped[int] = mapped_column(Integer, nullable=False)
    output_tokens: Mapped[int] = mapped_column(Integer, nullable=False)
    cost_usd: Mapped[float] = mapped_column(Float, nullable=False)
    created_at: Mapped[datetime] = created_at_column()


class TutorFlag(Base):
    """A safety screen's hit on one chat message (the user's, screened before the model sees it, or the reply).
    High severity is escalated: listed for the course's instructors and the university's admins until resolved.

    An escalated flag is a safety record: it outlives its chat (the student's delete, chat retention) with
    `message_id` and `session_id` set NULL — it never held the message's text. A flag that was not escalated goes
    with its chat (services/flags.py `forget_chats`); the erasure of its user deletes every flag of the user."""

    __tablename__ = "tutor_flags"
    __table_args__ = (Index(None, "university_id", "status", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("chat_messages.id", ondelete="SET NULL"), nullable=True, index=True
    )
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("chat_sessions.id", ondelete="SET NULL"), nullable=True, index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    university_id: Mapped[int | None] = mapped_column(ForeignKey("universities.id", ondelete="CASCADE"), nullable=True)
    course_id: Mapped[int | None] = mapped_column(
        ForeignKey("courses.id", ondelete="SET NULL"), nullable=True, index=True
    )
    category: Mapped[str] = mapped_column(String(32), nullable=False)
    severity: Mapped[str] = mapped_column(String(16), nullable=False)
    screen: Mapped[str] = mapped_column(String(16), nullable=False)  # "input" (the user's) or "output" (the reply)
    source: Mapped[str] = mapped_column(String(16), nullable=False)  # "rules" or "endpoint"
    escalated: Mapped[bool] = mapped_column(Boolean, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default=text("'open'"))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    handled_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
    )
    handled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = created_at_column()


class UniversitySetting(Base):
    """A university's own LLM provider settings (the platform's `llm.*` keys, scoped to it; secrets encrypted)."""

    __tablename__ = "university_settings"

    university_id: Mapped[int] = mapped_column(
        ForeignKey("universities.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    setting_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    setting_value: Mapped[str] = mapped_column(Text, nullable=False)
    is_encrypted: Mapped[bool] = mapped_column(Boolean, nullable=False)
    updated_at: Mapped[datetime] = updated_at_column()
