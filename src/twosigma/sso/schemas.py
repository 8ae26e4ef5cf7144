"""A university's OpenID Connect provider, its joining policy, and the one-time code exchange."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from twosigma.kit.schemas import ReadSchema, Schema

_SCOPE = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]{1,64}$")  # RFC 6749 scope-token
_CLAIM = re.compile(r"^[A-Za-z0-9_.:/-]{1,100}$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def _scopes(value: list[str]) -> list[str]:
    for scope in value:
        if not _SCOPE.match(scope):
            raise ValueError("Each scope must be an OAuth scope token (printable, no spaces or quotes).")
    if "openid" not in value:
        raise ValueError("The scopes must include openid.")
    return list(dict.fromkeys(value))


def _claim(value: str | None) -> str | None:
    if value is not None and not _CLAIM.match(value):
        raise ValueError("A claim name is 1-100 letters, digits or _ . : / -.")
    return value


def _domains(value: list[str]) -> list[str]:
    cleaned = []
    for domain in value:
        domain = domain.strip().lower().lstrip("@")
        if not _DOMAIN.match(domain):
            raise ValueError("Each domain must be a domain name such as uni.example (no @, no scheme).")
        cleaned.append(domain)
    return sorted(set(cleaned))


ClaimName = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_claim)]
OptionalClaim = Annotated[str | None, Field(default=None, max_length=100), AfterValidator(_claim)]


class SsoConfigWrite(Schema):
    issuer: str = Field(
        min_length=8,
        max_length=500,
        pattern=r"^https?://[^\s?#]+$",
        description="The provider's issuer URL; discovery reads {issuer}/.well-known/openid-configuration.",
    )
    client_id: str = Field(min_length=1, max_length=255)
    client_secret: str | None = Field(
        default=None,
        min_length=1,
        max_length=2000,
        description="Stored encrypted, never returned. Required the first time; omitted later: the stored one is kept.",
    )
    scopes: Annotated[list[str], Field(max_length=20), AfterValidator(_scopes)] = Field(
        default_factory=lambda: ["openid", "email", "profile"]
    )
    claim_email: ClaimName = "email"
    claim_name: ClaimName = "name"
    claim_role: OptionalClaim = None
    claim_department: OptionalClaim = None
    enabled: bool = True


class SsoConfigRead(ReadSchema):
    university_id: int
    issuer: str
    client_id: str
    client_secret: str = Field(description="A mask: never the secret.")
    scopes: list[str]
    claim_email: str
    claim_name: str
    claim_role: str | None
    claim_department: str | None
    enabled: bool
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    login_url: str = Field(description="Where members start signing in (GET, a browser redirect).")
    created_at: datetime
    updated_at: datetime


class AccessPolicyWrite(Schema):
    sso_required: bool = Field(
        default=False, description="Members may no longer sign in with a password (needs an enabled provider)."
    )
    allowed_email_domains: Annotated[list[str], Field(max_length=100), AfterValidator(_domains)] = Field(
        default_factory=list, description="Empty: every domain. Self-enrolment and single sign-on linking only."
    )
    require_verified_email: bool = Field(default=False, description="Enrolment needs a verified email address.")
    chat_retention_days: int | None = Field(
        default=None,
        ge=1,
        le=3650,
        description="Tutor chats idle (no message) for longer than this many days are deleted by a daily job; "
        "null: kept.",
    )


class AccessPolicyRead(BaseModel):
    university_id: int
    sso_required: bool
    allowed_email_domains: list[str]
    require_verified_email: bool
    chat_retention_days: int | None


class ExchangeRequest(Schema):
    code: str = Field(min_length=1, max_length=200)
