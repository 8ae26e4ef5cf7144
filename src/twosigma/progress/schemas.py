"""Request and response shapes for progress writes, the caller's progress tree and the staff overview."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from twosigma.enums import EnrollmentStatus, ModuleType
from twosigma.kit.schemas import Schema


class ProgressUpdate(Schema):
    progress_percent: int = Field(ge=0, le=100)
    attempt: bool = Field(default=False, description="Count one more attempt at this item.")


class ContentProgressRead(BaseModel):
    content_item_id: int
    progress_percent: int
    attempts_count: int
    first_started_at: datetime
    last_interacted_at: datetime
    completed_at: datetime | None


class ModuleProgressRead(BaseModel):
    module_id: int
    progress_percent: int
    completed_at: datetime | None


class ProgressWriteResult(BaseModel):
    item: ContentProgressRead
    modules: list[ModuleProgressRead] = Field(description="The item's module first, then each ancestor to the root.")
    course_progress_percent: int
    enrollment_status: EnrollmentStatus
    current_streak_days: int
    last_activity_date: date | None


class ItemProgressNode(BaseModel):
    id: int
    title: str
    content_type: str
    sequence_index: int
    estimated_duration_seconds: int | None
    progress_percent: int
    attempts_count: int
    completed_at: datetime | None
    last_interacted_at: datetime | None


class ModuleProgressNode(BaseModel):
    id: int
    title: str
    module_type: ModuleType
    sequence_index: int
    depth: int
    progress_percent: int
    completed_at: datetime | None
    content_items: list[ItemProgressNode]
    children: list[ModuleProgressNode]


class MyProgress(BaseModel):
    offering_id: int
    course_id: int
    enrollment_status: EnrollmentStatus
    progress_percent: int
    root: ModuleProgressNode


class StudentProgressRow(BaseModel):
    enrollment_id: int
    user_id: int
    full_name: str
    email: str
    enrollment_status: EnrollmentStatus
    progress_percent: int
    completed_items: int
    last_activity_at: datetime | None


class OfferingProgress(BaseModel):
    items: list[StudentProgressRow]
    page: int
    limit: int
    total: int
    pages: int
    offering_id: int
    content_items_count: int = Field(description="Items counted in a percent: those a student can read.")
    mean_progress_percent: float = Field(description="Mean over every listed student (all pages), 0 if none.")
