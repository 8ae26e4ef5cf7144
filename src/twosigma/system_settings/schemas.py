"""Request and response shapes of /admin/settings."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, JsonValue

from twosigma.kit.schemas import Schema
from twosigma.system_settings.registry import Scalar


class SettingWrite(Schema):
    value: JsonValue = Field(description="Any JSON value; known keys are validated by type.")
    is_encrypted: bool = Field(
        default=False, description="Store encrypted. Secret keys are always encrypted, whatever this says."
    )
    description: str | None = Field(default=None, max_length=2000)


class SettingRead(BaseModel):
    key: str
    value: JsonValue = Field(description="The stored value; for an encrypted setting only a mask such as ••••a1b2.")
    is_encrypted: bool
    is_known: bool
    description: str | None
    updated_at: datetime


class SettingList(BaseModel):
    items: list[SettingRead]


class SettingSchemaEntry(BaseModel):
    key: str
    type: str
    default: Scalar | None
    secret: bool
    env_vars: list[str] = Field(description="Read in this order when no value is stored (a stored value wins).")
    description: str
    choices: list[str] | None = None
    minimum: float | None = None
    exclusive_minimum: float | None = None
    maximum: float | None = None


class SettingSchema(BaseModel):
    items: list[SettingSchemaEntry]
