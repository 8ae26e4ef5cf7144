"""A data export as its owner sees it, and the confirmation an erasure needs."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from twosigma.kit.schemas import Schema

ExportStatus = Literal["PENDING", "RUNNING", "READY", "FAILED", "EXPIRED"]


class ExportRead(BaseModel):
    id: int
    status: ExportStatus = Field(
        description="PENDING (waiting), RUNNING (being built), READY (download it), FAILED (ask again), EXPIRED."
    )
    created_at: datetime
    completed_at: datetime | None
    expires_at: datetime = Field(description="After this the export is gone: its download answers 410, later 404.")
    size_bytes: int | None = Field(description="The ZIP's size once READY.")
    download_url: str | None = Field(description="Where to GET the ZIP (with the owner's credentials) once READY.")


class EraseMe(Schema):
    """An account with a password confirms with it. An account without one (created by single sign-on) confirms
    by typing its email address in `confirm_email`."""

    password: str | None = Field(default=None, max_length=1024)
    confirm_email: str | None = Field(default=None, max_length=255)
