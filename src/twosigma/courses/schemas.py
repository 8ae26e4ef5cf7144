"""Request and response shapes for courses, their subject/prerequisite links and their offerings."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Self

from pydantic import AwareDatetime, Field, model_validator

from twosigma.enums import CourseLevel, Visibility
from twosigma.kit.errors import Invalid
from twosigma.kit.schemas import ReadSchema, Schema


class CourseSort(StrEnum):
    TITLE = "title"
    TITLE_DESC = "-title"
    CODE = "code"
    CODE_DESC = "-code"
    ID = "id"
    ID_DESC = "-id"


class CourseCreate(Schema):
    university_id: int
    department_id: int | None = None
    primary_subject_id: int
    title: str = Field(min_length=1, max_length=255)
    code: str = Field(min_length=1, max_length=20)
    description: str | None = Field(default=None, max_length=20_000)
    level: CourseLevel = CourseLevel.INTRODUCTORY
    credit_hours: float = Field(default=0, ge=0, le=1000)
    is_published: bool = False
    is_coming_soon: bool = False


# Fields that may be sent as null in a PATCH (the others are NOT NULL columns).
_NULLABLE_COURSE_FIELDS = frozenset({"department_id", "description"})


class CourseUpdate(Schema):
    department_id: int | None = None
    primary_subject_id: int | None = None
    title: str | None = Field(default=None, min_length=1, max_length=255)
    code: str | None = Field(default=None, min_length=1, max_length=20)
    description: str | None = Field(default=None, max_length=20_000)
    level: CourseLevel | None = None
    credit_hours: float | None = Field(default=None, ge=0, le=1000)
    is_published: bool | None = None
    is_coming_soon: bool | None = None
    # A PostgreSQL text-search configuration (`simple`, `english`, `german`, ...): 422 unless pg_ts_config has it.
    text_search_config: str | None = Field(default=None, min_length=1, max_length=63)

    @model_validator(mode="after")
    def _no_null_for_required(self) -> Self:
        for name in self.model_fields_set - _NULLABLE_COURSE_FIELDS:
            if getattr(self, name) is None:
                raise ValueError(f"{name} may not be null")
        return self


class CourseRead(ReadSchema):
    id: int
    university_id: int
    department_id: int | None
    primary_subject_id: int
    title: str
    code: str
    description: str | None
    level: CourseLevel
    credit_hours: float
    is_published: bool
    is_coming_soon: bool
    text_search_config: str


class CourseSummary(ReadSchema):
    id: int
    university_id: int
    code: str
    title: str
    is_published: bool


class SubjectIds(Schema):
    subject_ids: list[int] = Field(max_length=200)


class PrerequisiteIds(Schema):
    course_ids: list[int] = Field(max_length=200)


class SubjectSummary(ReadSchema):
    id: int
    name: str
    domain_id: int
    parent_subject_id: int | None


def check_offering_dates(values: dict[str, Any]) -> None:
    """Starts before it ends; the enrolment window opens before it closes. Raises Invalid (422)."""
    pairs = (("starts_at", "ends_at"), ("enrollment_start", "enrollment_end"))
    for first, second in pairs:
        a, b = values.get(first), values.get(second)
        if a is not None and b is not None and a >= b:
            raise Invalid(
                f"{first} must be before {second}.",
                details=[{"loc": ["body", second], "msg": f"must be after {first}", "type": "date_order"}],
            )


class OfferingCreate(Schema):
    term_name: str = Field(min_length=1, max_length=100)
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    enrollment_start: AwareDatetime | None = None
    enrollment_end: AwareDatetime | None = None
    visibility: Visibility = Visibility.PUBLIC
    capacity: int | None = Field(default=None, ge=0, le=1_000_000)

    @model_validator(mode="after")
    def _dates_in_order(self) -> Self:
        pairs = (("starts_at", "ends_at"), ("enrollment_start", "enrollment_end"))
        for first, second in pairs:
            a, b = getattr(self, first), getattr(self, second)
            if a is not None and b is not None and a >= b:
                raise ValueError(f"{first} must be before {second}")
        return self


class OfferingUpdate(Schema):
    term_name: str | None = Field(default=None, min_length=1, max_length=100)
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    enrollment_start: AwareDatetime | None = None
    enrollment_end: AwareDatetime | None = None
    visibility: Visibility | None = None
    capacity: int | None = Field(default=None, ge=0, le=1_000_000)

    @model_validator(mode="after")
    def _no_null_for_required(self) -> Self:
        for name in ("term_name", "visibility"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} may not be null")
        return self


class OfferingRead(ReadSchema):
    id: int
    course_id: int
    university_id: int
    term_name: str
    starts_at: datetime | None
    ends_at: datetime | None
    enrollment_start: datetime | None
    enrollment_end: datetime | None
    visibility: Visibility
    capacity: int | None
    # Only the course's staff see it; None for everyone else.
    invite_code: str | None = None
