"""The module tree of a course and the content items hanging from it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, false, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from twosigma.db.base import Base
from twosigma.enums import ModuleType, pg_enum

if TYPE_CHECKING:
    from twosigma.courses.models import Course
    from twosigma.taxonomy.models import ContentType


class Module(Base):
    __tablename__ = "modules"
    # Children of a node in display order; also the index of the parent_module_id FK.
    __table_args__ = (Index(None, "parent_module_id", "sequence_index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), nullable=False, index=True)
    parent_module_id: Mapped[int | None] = mapped_column(ForeignKey("modules.id", ondelete="CASCADE"), nullable=True)
    title: Mapped[str] = mapped_column(String(255), nullable=False)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    module_type: Mapped[ModuleType] = mapped_column(pg_enum(ModuleType, "module_type"), nullable=False)
    sequence_index: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    depth: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    is_published: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=false())

    course: Mapped[Course] = relationship(lazy="raise")
    parent_module: Mapped[Module | None] = relationship(remote_side="Module.id", lazy="raise")


class ContentItem(Base):
    __tablename__ = "content_items"
    __table_args__ = (
        # Items of a module in display order; also the index of the module_id FK.
        Index(None, "module_id", "sequence_index"),
        Index(None, "data_json", postgresql_using="gin"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("modules.id", ondelete="CASCADE"), nullable=False)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), nullable=False, index=True)
    content_type_id: Mapped[int] = mapped_column(
        ForeignKey("content_types.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    title: Mapped[str] = mapped_column(String(255), nullable=False)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    data_json: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default=text("'{}'::jsonb"))
    learning_objectives: Mapped[list[Any]] = mapped_column(JSONB, nullable=False, server_default=text("'[]'::jsonb"))
    sequence_index: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    estimated_duration_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    prompt_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    prompt_label: Mapped[str] = mapped_column(String(36), nullable=False, server_default=text("'production'"))

    module: Mapped[Module] = relationship(lazy="raise")
    content_type: Mapped[ContentType] = relationship(lazy="raise")
