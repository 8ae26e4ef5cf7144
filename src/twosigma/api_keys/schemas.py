"""API key schemas. The secret appears in exactly one response: the one that creates the key."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from twosigma.kit.schemas import ReadSchema, Schema


class ApiKeyCreate(Schema):
    name: str = Field(min_length=1, max_length=255)


class ApiKeyRead(ReadSchema):
    id: int
    name: str
    public_key: str
    created_by: int | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ReadSchema):
    id: int
    name: str
    public_key: str
    secret_key: str = Field(description="Shown once; only a keyed hash of it is stored.")
    created_at: datetime
