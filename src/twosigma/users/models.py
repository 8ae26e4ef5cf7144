"""Accounts, onboarding profiles and subject preferences."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, String, UniqueConstraint, text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from twosigma.db.base import Base, created_at_column, updated_at_column
from twosigma.enums import Grade, LearningGoal, StudyLevel, pg_enum


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Unique index (not a constraint) named ix_users_email by the convention; the service stores emails lowercased.
    email: Mapped[str] = mapped_column(String(255), nullable=False, index=True, unique=True)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    full_name: Mapped[str] = mapped_column(String(255), nullable=False)
    locale: Mapped[str] = mapped_column(String(10), nullable=False, server_default=text("'en'"))
    time_zone: Mapped[str] = mapped_column(String(50), nullable=False, server_default=text("'UTC'"))
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=true())
    # When the owner proved they read mail at `email` (a verification link, or confirming an email change).
    email_verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # When the account was erased (docs/identity.md "Take it or erase it"): the row stays as a tombstone without
    # personal data, so the anonymous learning records that point at it keep their foreign keys.
    erased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    current_streak_days: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    last_activity_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class UserProfile(Base):
    __tablename__ = "user_profiles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, unique=True)
    date_of_birth: Mapped[date | None] = mapped_column(Date, nullable=True)
    learning_goal: Mapped[LearningGoal | None] = mapped_column(pg_enum(LearningGoal, "learning_goal"), nullable=True)
    study_level: Mapped[StudyLevel | None] = mapped_column(pg_enum(StudyLevel, "study_level"), nullable=True)
    grade: Mapped[Grade | None] = mapped_column(pg_enum(Grade, "grade"), nullable=True)

    user: Mapped[User] = relationship(lazy="raise")


class UserSubjectPreference(Base):
    __tablename__ = "user_subject_preferences"
    __table_args__ = (UniqueConstraint("user_id", "subject_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"), nullable=False, index=True)
