"""Data exports (a job queue whose rows also hold the finished ZIP) and the record of daily chat-retention runs."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, Index, Integer, LargeBinary, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from twosigma.db.base import Base, created_at_column

# PENDING: waiting for the worker; RUNNING: being built (lease_until); DONE: `archive` holds the ZIP until
# `expires_at`; FAILED: given up (`last_error`).
EXPORT_STATUSES = ("PENDING", "RUNNING", "DONE", "FAILED")


class DataExport(Base):
    __tablename__ = "data_exports"
    __table_args__ = (
        Index(None, "status", "next_attempt_at"),
        Index(None, "expires_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default=text("'PENDING'"))
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    # The ZIP itself (bytea, at most privacy.service.MAX_ARCHIVE_BYTES); deleted with the row when it expires.
    archive: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True, deferred=True)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = created_at_column()
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class ChatRetentionRun(Base):
    """One row per day the retention job ran: inserting it is the claim (two processes cannot both run a day)."""

    __tablename__ = "chat_retention_runs"

    run_on: Mapped[date] = mapped_column(Date, primary_key=True, autoincrement=False)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    universities: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    sessions_deleted: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    messages_deleted: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
