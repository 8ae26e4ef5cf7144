"""Feature request shapes."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from twosigma.enums import FeatureRequestStatus
from twosigma.kit.schemas import ReadSchema, Schema


class FeatureRequestCreate(Schema):
    title: str = Field(min_length=3, max_length=255)
    description: str = Field(min_length=1, max_length=10_000)


class FeatureRequestStatusUpdate(Schema):
    status: FeatureRequestStatus


class FeatureRequestRead(ReadSchema):
    id: int
    user_id: int
    title: str
    description: str
    status: FeatureRequestStatus
    created_at: datetime
    updated_at: datetime
