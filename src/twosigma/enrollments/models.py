"""A user's enrolment in a course offering."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import DateTime, ForeignKey, Index, Integer, UniqueConstraint, func, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from twosigma.db.base import Base
from twosigma.enums import EnrollmentStatus, pg_enum

if TYPE_CHECKING:
    from twosigma.courses.models import CourseOffering
    from twosigma.users.models import User


class CourseEnrollment(Base):
    __tablename__ = "course_enrollments"
    __table_args__ = (
        UniqueConstraint("user_id", "course_offering_id"),
        # Rosters filter by offering and status; the waitlist is served in enrolled_at order.
        Index(None, "course_offering_id", "status", "enrolled_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    course_offering_id: Mapped[int] = mapped_column(
        ForeignKey("course_offerings.id", ondelete="CASCADE"), nullable=False
    )
    status: Mapped[EnrollmentStatus] = mapped_column(
        pg_enum(EnrollmentStatus, "enrollment_status"), nullable=False, server_default=text("'ACTIVE'")
    )
    enrolled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    user: Mapped[User] = relationship(lazy="raise")
    course_offering: Mapped[CourseOffering] = relationship(lazy="raise")
