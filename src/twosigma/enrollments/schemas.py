"""Request and response shapes for enrolments."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Self

from pydantic import EmailStr, Field, model_validator

from twosigma.courses.schemas import CourseSummary
from twosigma.enums import EnrollmentStatus, Visibility
from twosigma.kit.schemas import ReadSchema, Schema


class EnrollRequest(Schema):
    invite_code: str | None = Field(default=None, max_length=64)


class StaffEnrollRequest(Schema):
    user_id: int | None = None
    email: EmailStr | None = None
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
