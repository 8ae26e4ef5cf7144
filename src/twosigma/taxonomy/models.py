"""Learning taxonomy: domains, the subject tree, and admin-managed content types."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, false, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from twosigma.db.base import Base


class Domain(Base):
    __tablename__ = "domains"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)


class Subject(Base):
    __tablename__ = "subjects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), nullable=False, index=True)
    parent_subject_id: Mapped[int | None] = mapped_column(
        ForeignKey("subjects.id", ondelete="CASCADE"), nullable=True, index=True
    )
    name: Mapped[str] = mapped_column(String(100), nullable=False)

    domain: Mapped[Domain] = relationship(lazy="raise")
    parent_subject: Mapped[Subject | None] = relationship(remote_side="Subject.id", lazy="raise")


class ContentType(Base):
    __tablename__ = "content_types"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(50), nullable=False, unique=True)
    label: Mapped[str] = mapped_column(String(100), nullable=False)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=true())
    # Items of a gradable type hold a quiz (assessments/quiz.py): validated on write, graded by the server, and read
    # by students without their answer keys.
    gradable: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=false())
