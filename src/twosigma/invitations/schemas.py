"""Shapes of invitations: the inviter's view (with the token once, when created), the invitee's, the acceptance.

The inviter's view carries what they typed and the invitation's state, never anything about an account (whether
one exists, its id, its name): `user_id` appears once the invitation is ACCEPTED, when the person is a member.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from twosigma.enums import EnrollmentStatus, InvitationKind, UserRole
from twosigma.kit.schemas import ReadSchema, Schema


class InvitationState(StrEnum):
    """The stored status, with EXPIRED for a PENDING invitation past its expiry."""

    PENDING = "PENDING"
    EXPIRED = "EXPIRED"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"
    REVOKED = "REVOKED"


class InvitationRead(ReadSchema):
    id: int
    university_id: int
    email: str
    kind: InvitationKind
    role: UserRole | None
    department_id: int | None
    course_offering_id: int | None
    enrollment_status: EnrollmentStatus | None
    status: InvitationState
    invited_by_id: int | None
    user_id: int | None  # the member it made, once ACCEPTED
    created_at: datetime
    expires_at: datetime
    closed_at: datetime | None


class InvitationCreated(InvitationRead):
    """The answer to the call that makes an invitation, and the only place its token ever appears: shown once.

    Until invitations are mailed, the inviter passes the link (or the token) to the person. An account created at
    or after the invitation must present the token to accept it; one that existed before may accept by id alone.
    """

    accept_token: str = Field(description="Shown once: the invitation's secret. No other response carries it.")
    accept_url: str = Field(description="Shown once: the link to accept (`/invitations/accept?token=…`).")


class InvitationAcceptance(Schema):
    """The optional body of `POST /invitations/{id}/accept`."""

    token: str = Field(min_length=1, max_length=128, description="The token of the invitation link.")


class InvitedUniversity(ReadSchema):
    id: int
    name: str
    short_code: str


class InvitedDepartment(ReadSchema):
    id: int
    name: str


class InvitedCourse(ReadSchema):
    id: int
    code: str
    title: str


class InvitedOffering(ReadSchema):
    id: int
    term_name: str
    course: InvitedCourse


class MyInvitation(ReadSchema):
    """What the invitee sees: where to, as what, and who asked."""

    id: int
    kind: InvitationKind
    status: InvitationState
    university: InvitedUniversity
    role: UserRole | None
    department: InvitedDepartment | None
    course_offering: InvitedOffering | None
    enrollment_status: EnrollmentStatus | None
    invited_by_name: str | None
    created_at: datetime
    expires_at: datetime


class AcceptedInvitation(ReadSchema):
    invitation: MyInvitation
    grant_id: int | None  # the role grant it made (ROLE)
    enrollment_id: int | None  # the enrolment it made or re-opened (ENROLLMENT)
    enrollment_status: EnrollmentStatus | None  # ACTIVE, or WAITLISTED when the offering was full
