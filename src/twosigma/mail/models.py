"""The mail outbox: a message is a row written in the transaction that caused it, sent later by the worker."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, Index, Integer, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from twosigma.db.base import Base, created_at_column

# PENDING: waiting (next_attempt_at); SENDING: claimed by a worker until lease_until; SENT; FAILED: given up (too
# many attempts, a permanent refusal, or an unknown outcome that must not be retried); LOGGED: a development
# install without SMTP logged its link instead.
MAIL_STATUSES = ("PENDING", "SENDING", "SENT", "FAILED", "LOGGED")


class MailOutbox(Base):
    __tablename__ = "mail_outbox"
    __table_args__ = (
        CheckConstraint("status IN ('PENDING', 'SENDING', 'SENT', 'FAILED', 'LOGGED')", name="status_known"),
        # The worker's claim: due PENDING rows, oldest first.
        Index(None, "status", "next_attempt_at"),
        Index(None, "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(128), nullable=False, unique=True)
    recipient: Mapped[str] = mapped_column(String(255), nullable=False)
    subject: Mapped[str] = mapped_column(String(300), nullable=False)
    body_text: Mapped[str] = mapped_column(Text, nullable=False)
    body_html: Mapped[str] = mapped_column(Text, nullable=False)
    template: Mapped[str] = mapped_column(String(64), nullable=False)
    locale: Mapped[str] = mapped_column(String(10), nullable=False, server_default=text("'en'"))
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default=text("'PENDING'"))
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = created_at_column()
