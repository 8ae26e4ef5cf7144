"""User feedback: feature requests and their triage status."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from twosigma.db.base import Base, created_at_column, updated_at_column
from twosigma.enums import FeatureRequestStatus, pg_enum


class FeatureRequest(Base):
    __tablename__ = "feature_requests"
    __table_args__ = (Index(None, "status", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    title: Mapped[str] = mapped_column(String(255), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[FeatureRequestStatus] = mapped_column(
        pg_enum(FeatureRequestStatus, "feature_request_status"),
        nullable=False,
        server_default=text("'OPEN'"),
    )
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
