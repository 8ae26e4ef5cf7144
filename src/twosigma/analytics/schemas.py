"""The analytics overview."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from twosigma.enums import EnrollmentStatus


class UserFigures(BaseModel):
    total: int = Field(description="All users; in a university: users holding any role there.")
    active_7d: int = Field(description="last_activity_date within the last 7 days, today included.")
    active_30d: int = Field(description="last_activity_date within the last 30 days, today included.")


class EnrollmentFigures(BaseModel):
    total: int
    by_status: dict[EnrollmentStatus, int]


class FeedbackFigures(BaseModel):
    up: int
    down: int


class ChatFigures(BaseModel):
    sessions: int
    messages: int
    user_messages: int
    assistant_messages: int
    messages_30d: int
    feedback: FeedbackFigures


class ModelTokens(BaseModel):
    model: str
    messages: int
    input_tokens: int
    output_tokens: int
    total_tokens: int


class TopCourse(BaseModel):
    course_id: int
    university_id: int
    code: str
    title: str
    enrollments: int = Field(description="ACTIVE + COMPLETED enrolments over all the course's offerings.")
    active: int
    completed: int


class AnalyticsOverview(BaseModel):
    university_id: int | None = Field(description="The university the figures are scoped to; null: the platform.")
    generated_at: datetime
    users: UserFigures
    enrollments: EnrollmentFigures
    mean_course_progress: float | None = Field(
        description="Mean stored course progress (root module percent) over ACTIVE and COMPLETED enrolments; "
        "null when there are none."
    )
    chat: ChatFigures
    tokens_by_model_30d: list[ModelTokens]
    top_courses: list[TopCourse]
