"""API key schemas. The secret appears in exactly one response: the one that creates the key."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from twosigma.api_keys.scopes import Scope
from twosigma.kit.schemas import ReadSchema, Schema

_SCOPES_HELP = (
    "What the key may do on /api/public/v2/prompts: prompts:read (always included), prompts:write (create, "
    "label, delete versions), prompts:deploy (give, move or remove the protected `production` label; brings "
    "prompts:write)."
)


class ApiKeyCreate(Schema):
    name: str = Field(min_length=1, max_length=255)
    scopes: list[Scope] = Field(default_factory=list, max_length=len(Scope) * 4, description=_SCOPES_HELP)


class ApiKeyRead(ReadSchema):
    id: int
    name: str
    public_key: str
    scopes: list[str] = Field(description=_SCOPES_HELP)
    created_by: int | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ReadSchema):
    id: int
    name: str
    public_key: str
    secret_key: str = Field(description="Shown once; only a keyed hash of it is stored.")
    scopes: list[str] = Field(description=_SCOPES_HELP)
    created_at: datetime
