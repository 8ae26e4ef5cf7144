"""Langfuse-style prompts: immutable versions, labels, composition dependencies, and the label audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column, relationship

from twosigma.db.base import Base, created_at_column, updated_at_column


class Prompt(Base):
    __tablename__ = "prompts"
    # Index names are fixed by the schema reference.
    __table_args__ = (
        UniqueConstraint("name", "version"),
        Index("ix_prompts_name", "name"),
        Index("ix_prompts_labels", "labels", postgresql_using="gin"),
        Index("ix_prompts_tags", "tags", postgresql_using="gin"),
        Index("ix_prompts_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    type: Mapped[str] = mapped_column(String(20), nullable=False, server_default=text("'text'"))
    prompt: Mapped[str | None] = mapped_column(Text, nullable=True)
    config: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, server_default=text("'{}'::json"))
    labels: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default=text("'{}'"))
    tags: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default=text("'{}'"))
    commit_message: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_by: Mapped[str] = mapped_column(String(255), nullable=False)  # a user id or "API"
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class PromptDependency(Base):
    __tablename__ = "prompt_dependencies"
    __table_args__ = (
        CheckConstraint("(child_version IS NULL) <> (child_label IS NULL)", name="child_version_xor_label"),
        Index("ix_prompt_deps_parent", "parent_id"),
        Index("ix_prompt_deps_child", "child_name"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    parent_id: Mapped[int] = mapped_column(ForeignKey("prompts.id", ondelete="CASCADE"), nullable=False)
    child_name: Mapped[str] = mapped_column(String(255), nullable=False)
    child_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    child_label: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    parent: Mapped[Prompt] = relationship(lazy="raise")


class PromptLabelEvent(Base):
    """One row per label move; append-only."""

    __tablename__ = "prompt_label_events"
    __table_args__ = (Index(None, "prompt_name", "label", "at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    prompt_name: Mapped[str] = mapped_column(String(255), nullable=False)
    label: Mapped[str] = mapped_column(String(36), nullable=False)
    from_version: Mapped[int | None] = mapped_column(Integer, nullable=True)  # NULL: the label is new
    to_version: Mapped[int | None] = mapped_column(Integer, nullable=True)  # NULL: the label was removed
    actor: Mapped[str] = mapped_column(String(255), nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
