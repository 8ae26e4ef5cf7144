"""Invitations: how staff reach someone who is not yet a member of their university (by email, never by id)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from twosigma.db.base import Base, created_at_column
from twosigma.enums import EnrollmentStatus, InvitationKind, InvitationStatus, UserRole, pg_enum

if TYPE_CHECKING:
    from twosigma.courses.models import CourseOffering
    from twosigma.tenancy.models import Department, University
    from twosigma.users.models import User


class Invitation(Base):
    """A role (`kind` ROLE: `role`, `department_id`) or a staff enrolment (`kind` ENROLLMENT: `course_offering_id`,
    `enrollment_status`) offered to whoever holds the account with `email`.

    Only a SHA-256 of the token is stored: the token itself is handed to the caller of the service once (a later
    mail outbox sends it in a link), so a database reader cannot accept on someone's behalf.
    """

    __tablename__ = "invitations"
    __table_args__ = (
        CheckConstraint(
            "(kind = 'ROLE' AND role IS NOT NULL AND course_offering_id IS NULL AND enrollment_status IS NULL)"
            " OR (kind = 'ENROLLMENT' AND course_offering_id IS NOT NULL AND role IS NULL AND department_id IS NULL"
            " AND enrollment_status IS NOT NULL)",
            name="target_matches_kind",
        ),
        # The university's list (newest first, by status); leads with university_id, so it indexes that FK too.
        Index(None, "university_id", "created_at"),
        # The invitee's list: their email's pending invitations.
        Index(None, "email", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    university_id: Mapped[int] = mapped_column(ForeignKey("universities.id", ondelete="CASCADE"), nullable=False)
    email: Mapped[str] = mapped_column(String(255), nullable=False)  # lowercased, as every email the API takes
    kind: Mapped[InvitationKind] = mapped_column(pg_enum(InvitationKind, "invitation_kind"), nullable=False)
    role: Mapped[UserRole | None] = mapped_column(pg_enum(UserRole, "user_role"), nullable=True)
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("departments.id", ondelete="CASCADE"), nullable=True, index=True
    )
    course_offering_id: Mapped[int | None] = mapped_column(
        ForeignKey("course_offerings.id", ondelete="CASCADE"), nullable=True, index=True
    )
    enrollment_status: Mapped[EnrollmentStatus | None] = mapped_column(
        pg_enum(EnrollmentStatus, "enrollment_status"), nullable=True
    )
    status: Mapped[InvitationStatus] = mapped_column(
        pg_enum(InvitationStatus, "invitation_status"), nullable=False, server_default=text("'PENDING'")
    )
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
    )
    # Who took it out of PENDING (the invitee accepting or declining, or staff revoking) and when.
    closed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
    )
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    university: Mapped[University] = relationship(lazy="raise")
    department: Mapped[Department | None] = relationship(lazy="raise")
    course_offering: Mapped[CourseOffering | None] = relationship(lazy="raise")
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id], lazy="raise")
