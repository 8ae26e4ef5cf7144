"""When each job queue last drained (a `doctor` command reads it to tell a stalled worker from an idle one)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from twosigma.db.base import Base


class JobQueueRun(Base):
    __tablename__ = "job_queue_runs"

    queue: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_drained_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    # Jobs the last drain handled (done, retried or failed), and how many drains this queue has had.
    last_processed: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    drains: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
