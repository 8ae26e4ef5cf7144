"""Tenants: countries, universities, departments, and each user's roles within a university."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint, text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from twosigma.db.base import Base, created_at_column
from twosigma.enums import UserRole, pg_enum

if TYPE_CHECKING:
    from twosigma.users.models import User


class Country(Base):
    __tablename__ = "countries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(2), nullable=False, unique=True)  # ISO 3166-1 alpha-2
    name: Mapped[str] = mapped_column(String(100), nullable=False)


class University(Base):
    __tablename__ = "universities"
    # Leads with country_id, so it also serves as the index of that FK.
    __table_args__ = (UniqueConstraint("country_id", "short_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    short_code: Mapped[str] = mapped_column(String(20), nullable=False)
    country_id: Mapped[int] = mapped_column(ForeignKey("countries.id", ondelete="RESTRICT"), nullable=False)
    time_zone: Mapped[str] = mapped_column(String(50), nullable=False, server_default=text("'UTC'"))
    website_url: Mapped[str | None] = mapped_column(String(255), nullable=True)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=true())

    country: Mapped[Country] = relationship(lazy="raise")


class Department(Base):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    university_id: Mapped[int] = mapped_column(
        ForeignKey("universities.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    code: Mapped[str | None] = mapped_column(String(20), nullable=True)

    university: Mapped[University] = relationship(lazy="raise")


class UserUniversityRole(Base):
    __tablename__ = "user_university_roles"
    __table_args__ = (UniqueConstraint("user_id", "university_id", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    university_id: Mapped[int] = mapped_column(
        ForeignKey("universities.id", ondelete="CASCADE"), nullable=False, index=True
    )
    role: Mapped[UserRole] = mapped_column(pg_enum(UserRole, "user_role"), nullable=False)
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("departments.id", ondelete="CASCADE"), nullable=True, index=True
    )

    user: Mapped[User] = relationship(lazy="raise")
    university: Mapped[University] = relationship(lazy="raise")
    department: Mapped[Department | None] = relationship(lazy="raise")


class MemberSuspension(Base):
    """A member's standing in one university, suspended by its administration: while the row exists, none of the
    user's roles or enrolments in that university count (authz.principal filters them). Lifting deletes the row; the
    audit log keeps the history. The account itself (`users.is_active`) is the platform's alone."""

    __tablename__ = "member_suspensions"
    # Leads with user_id, so it also serves as the index of that FK (the principal lookup reads by user).
    __table_args__ = (UniqueConstraint("user_id", "university_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    university_id: Mapped[int] = mapped_column(
        ForeignKey("universities.id", ondelete="CASCADE"), nullable=False, index=True
    )
    suspended_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
    )
    reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = created_at_column()
