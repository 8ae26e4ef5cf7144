"""Request and response shapes for enrolments."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Self

from pydantic import Field, model_validator

from twosigma.courses.schemas import CourseSummary
from twosigma.enums import EnrollmentStatus, Visibility
from twosigma.kit.fields import Email
from twosigma.kit.schemas import ReadSchema, Schema


class EnrollRequest(Schema):
    invite_code: str | None = Field(default=None, max_length=64)


class StaffEnrollRequest(Schema):
    """A member of the university by `user_id`, or anyone by `email` (an invitation unless the caller is a platform
    admin): exactly one of the two."""

    user_id: int | None = Field(default=None, ge=1, le=2_147_483_647)
    email: Email | None = None
    status: Literal[EnrollmentStatus.ACTIVE, EnrollmentStatus.PENDING, EnrollmentStatus.WAITLISTED] = (
        EnrollmentStatus.ACTIVE
    )

    @model_validator(mode="after")
    def _exactly_one_user_reference(self) -> Self:
        if (self.user_id is None) == (self.email is None):
            raise ValueError("give exactly one of user_id or email")
        return self


class EnrollmentUpdate(Schema):
    status: EnrollmentStatus


class EnrollmentRead(ReadSchema):
    id: int
    user_id: int
    course_offering_id: int
    status: EnrollmentStatus
    enrolled_at: datetime
    completed_at: datetime | None


class UserSummary(ReadSchema):
    id: int
    email: str
    full_name: str


class RosterEntry(EnrollmentRead):
    user: UserSummary


class OfferingWithCourse(ReadSchema):
    id: int
    term_name: str
    starts_at: datetime | None
    ends_at: datetime | None
    visibility: Visibility
    course: CourseSummary


class MyEnrollment(EnrollmentRead):
    course_offering: OfferingWithCourse
