"""Response shapes of the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from twosigma.kit.schemas import ReadSchema


class AuditEventRead(ReadSchema):
    id: int
    university_id: int | None
    action: str
    created_at: datetime
    actor_id: int | None
    actor_email: str | None
    target_user_id: int | None
    target_email: str | None
    resource_type: str | None
    resource_id: int | None
    details: dict[str, Any]
