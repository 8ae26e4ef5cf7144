"""Users: the signed-in user's record, roles, onboarding profile, subject preferences and streak."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import Field, model_validator

from twosigma.enums import Grade, LearningGoal, StudyLevel, UserRole
from twosigma.kit.schemas import ReadSchema, Schema
from twosigma.users.fields import DateOfBirth, FullName, Locale, TimeZone

MAX_SUBJECT_PREFERENCES = 200

SubjectIds = Annotated[list[Annotated[int, Field(ge=1)]], Field(max_length=MAX_SUBJECT_PREFERENCES)]


class RoleRead(ReadSchema):
    university_id: int
    role: UserRole
    department_id: int | None = None


class UserRead(ReadSchema):
    id: int
    email: str
    full_name: str
    locale: str
    time_zone: str
    is_active: bool
    email_verified_at: datetime | None = None
    current_streak_days: int
    last_activity_date: date | None
    created_at: datetime
    updated_at: datetime


class UserMe(UserRead):
    roles: list[RoleRead]  # the roles that work: none of a university where the user is suspended
    suspended_university_ids: list[int]  # universities where the user's membership is suspended


class UserUpdate(Schema):
    """PATCH: only the fields sent change; a field may not be set to null."""

    full_name: FullName | None = None
    locale: Locale | None = None
    time_zone: TimeZone | None = None

    @model_validator(mode="after")
    def _no_nulls(self) -> UserUpdate:
        nulls = sorted(name for name in self.model_fields_set if getattr(self, name) is None)
        if nulls:
            raise ValueError(f"These fields may not be null: {', '.join(nulls)}.")
        return self


class ProfileWrite(Schema):
    """PUT replaces the whole profile: an omitted field is cleared."""

    date_of_birth: DateOfBirth = None
    learning_goal: LearningGoal | None = None
    study_level: StudyLevel | None = None
    grade: Grade | None = None


class ProfileRead(ReadSchema):
    date_of_birth: date | None = None
    learning_goal: LearningGoal | None = None
    study_level: StudyLevel | None = None
    grade: Grade | None = None


class SubjectPreferencesWrite(Schema):
    subject_ids: SubjectIds


class SubjectPreferencesRead(Schema):
    subject_ids: list[int]


class StreakRead(Schema):
    current_streak_days: int = Field(description="0 once a whole local day has passed without activity.")
    last_activity_date: date | None
    time_zone: str
