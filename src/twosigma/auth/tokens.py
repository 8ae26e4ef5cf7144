"""JWTs (HS256): `sub`, `exp`, `iat`, `jti`, `type`. An access token is never a refresh token, nor the reverse."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import jwt

from twosigma.config import Settings
from twosigma.kit.errors import Unauthorized

ALGORITHM = "HS256"


class TokenType(StrEnum):
    ACCESS = "access"
    REFRESH = "refresh"


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    jti: str
    type: TokenType
    issued_at: datetime
    expires_at: datetime
    family_id: str | None = None


def new_jti() -> str:
    return secrets.token_urlsafe(24)


def encode_token(
    settings: Settings,
    *,
    user_id: int,
    token_type: TokenType,
    lifetime: timedelta,
    jti: str | None = None,
    family_id: str | None = None,
    now: datetime | None = None,
) -> tuple[str, TokenClaims]:
    issued = (now or datetime.now(UTC)).replace(microsecond=0)
    claims = TokenClaims(
        user_id=user_id,
        jti=jti or new_jti(),
        type=token_type,
        issued_at=issued,
        expires_at=issued + lifetime,
        family_id=family_id,
    )
    payload: dict[str, Any] = {
        "sub": str(user_id),
        "iat": int(issued.timestamp()),
        "exp": int(claims.expires_at.timestamp()),
        "jti": claims.jti,
        "type": token_type.value,
    }
    if family_id is not None:
        payload["fam"] = family_id
    token = jwt.encode(payload, settings.secret_key.get_secret_value(), algorithm=ALGORITHM)
    return token, claims


def decode_token(settings: Settings, token: str, expected: TokenType) -> TokenClaims:
    """Verify signature, expiry and type. Any failure is one 401; `alg: none` and other algorithms are refused."""
    try:
        payload = jwt.decode(
            token,
            settings.secret_key.get_secret_value(),
            algorithms=[ALGORITHM],
            options={"require": ["sub", "exp", "iat", "jti", "type"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("The token has expired.", code="token_expired") from exc
    except jwt.PyJWTError as exc:
        raise Unauthorized("The token is not valid.", code="invalid_token") from exc
    if payload.get("type") != expected.value:
        raise Unauthorized(f"An {expected.value} token is required.", code="invalid_token")
    try:
        user_id = int(payload["sub"])
    except (TypeError, ValueError) as exc:
        raise Unauthorized("The token is not valid.", code="invalid_token") from exc
    return TokenClaims(
        user_id=user_id,
        jti=str(payload["jti"]),
        type=expected,
        issued_at=datetime.fromtimestamp(int(payload["iat"]), UTC),
        expires_at=datetime.fromtimestamp(int(payload["exp"]), UTC),
        family_id=payload.get("fam"),
    )
