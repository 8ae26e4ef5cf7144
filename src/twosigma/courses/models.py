"""Course definitions, their subjects and prerequisites, and their term offerings."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from twosigma.db.base import Base
from twosigma.enums import CourseLevel, Visibility, pg_enum

if TYPE_CHECKING:
    from twosigma.taxonomy.models import Subject
    from twosigma.tenancy.models import Department, University


class Course(Base):
    __tablename__ = "courses"
    # Leads with university_id, so it also serves as the index of that FK.
    __table_args__ = (UniqueConstraint("university_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    university_id: Mapped[int] = mapped_column(ForeignKey("universities.id", ondelete="CASCADE"), nullable=False)
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("departments.id", ondelete="SET NULL"), nullable=True, index=True
    )
    primary_subject_id: Mapped[int] = mapped_column(
        ForeignKey("subjects.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    title: Mapped[str] = mapped_column(String(255), nullable=False)
    code: Mapped[str] = mapped_column(String(20), nullable=False)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    level: Mapped[CourseLevel] = mapped_column(
        pg_enum(CourseLevel, "course_level"), nullable=False, server_default=text("'INTRODUCTORY'")
    )
    credit_hours: Mapped[float] = mapped_column(Float, nullable=False, server_default=text("0"))
    is_published: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=false())
    is_coming_soon: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=false())
    # Raised by the database on every change to the course's modules and items (migration 0005's triggers): what is
    # cached from a course's content is keyed by it (content/tree_cache.py). Never written by the app.
    content_version: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default=text("0"))
    # The PostgreSQL text-search configuration of the course's index (retrieval/): `simple`, `english`, `german`...
    # Set by its staff (PATCH, checked against pg_ts_config).
    text_search_config: Mapped[str] = mapped_column(String(63), nullable=False, server_default=text("'simple'"))

    university: Mapped[University] = relationship(lazy="raise")
    department: Mapped[Department | None] = relationship(lazy="raise")
    primary_subject: Mapped[Subject] = relationship(lazy="raise")


class CourseSubject(Base):
    __tablename__ = "course_subjects"
    __table_args__ = (UniqueConstraint("course_id", "subject_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), nullable=False)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"), nullable=False, index=True)


class CoursePrerequisite(Base):
    __tablename__ = "course_prerequisites"
    __table_args__ = (
        UniqueConstraint("course_id", "prerequisite_course_id"),
        CheckConstraint("course_id <> prerequisite_course_id", name="no_self_prerequisite"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), nullable=False)
    prerequisite_course_id: Mapped[int] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), nullable=False, index=True
    )


class CourseOffering(Base):
    __tablename__ = "course_offerings"
    __table_args__ = (CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity_non_negative"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), nullable=False, index=True)
    university_id: Mapped[int] = mapped_column(
        ForeignKey("universities.id", ondelete="CASCADE"), nullable=False, index=True
    )
    term_name: Mapped[str] = mapped_column(String(100), nullable=False)
    starts_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    enrollment_start: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    enrollment_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    visibility: Mapped[Visibility] = mapped_column(
        pg_enum(Visibility, "visibility"), nullable=False, server_default=text("'PUBLIC'")
    )
    capacity: Mapped[int | None] = mapped_column(Integer, nullable=True)  # NULL: unlimited
    invite_code: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)

    course: Mapped[Course] = relationship(lazy="raise")
    university: Mapped[University] = relationship(lazy="raise")
