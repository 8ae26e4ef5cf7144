"""What an admin sees of the outbox: no token (bodies are redacted), no SMTP credential."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

MailStatus = Literal["PENDING", "SENDING", "SENT", "FAILED", "LOGGED"]


class OutboxItem(BaseModel):
    id: int
    recipient: str
    subject: str
    template: str
    locale: str
    status: MailStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    sent_at: datetime | None
    created_at: datetime
    body_text: str
