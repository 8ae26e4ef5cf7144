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
from twosigma.kit.params import INT4_MAX

ALGORITHM = "HS256"
MAX_CLAIM_TEXT = 64


class TokenType(StrEnum):
    ACCESS = "access"
    REFRESH = "refresh"

    @property
    def required_message(self) -> str:
        # Spelled out per type rather than built from the value, so each reads right ("An access", "A refresh").
        return _REQUIRED[self]


_REQUIRED = {TokenType.ACCESS: "An access token is required.", TokenType.REFRESH: "A refresh token is required."}


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
    token = jwt.encode(payload, settings.signing_secret(), algorithm=ALGORITHM)
    return token, claims


# Tokens already verified, with their claims: a client sends the same access token on every request, and PyJWT's
# decode is a large part of a simple authenticated request's work. Keyed by secret and type too; a hit still checks
# expiry. Bounded: when full, the oldest half is dropped.
_VERIFIED: dict[tuple[str, str, TokenType], TokenClaims] = {}
VERIFIED_TOKENS_KEPT = 20_000


def decode_token(settings: Settings, token: str, expected: TokenType) -> TokenClaims:
    """Verify signature, expiry and type. Any failure is one 401; `alg: none` and other algorithms are refused."""
    secret = settings.signing_secret()
    key = (secret, token, expected)
    claims = _VERIFIED.get(key)
    if claims is None:
        claims = _verify(secret, token, expected)
        if len(_VERIFIED) >= VERIFIED_TOKENS_KEPT:
            for old in list(_VERIFIED)[: max(1, VERIFIED_TOKENS_KEPT // 2)]:
                _VERIFIED.pop(old, None)
        _VERIFIED[key] = claims
    elif claims.expires_at <= datetime.now(UTC):
        _VERIFIED.pop(key, None)
        raise Unauthorized("The token has expired.", code="token_expired")
    return claims


def _verify(secret: str, token: str, expected: TokenType) -> TokenClaims:
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={"require": ["sub", "exp", "iat", "jti", "type"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("The token has expired.", code="token_expired") from exc
    except (jwt.PyJWTError, ValueError, TypeError, OverflowError, RecursionError) as exc:
        # Whatever a token holds, it decodes or it is a 401: PyJWT itself raises more than its own errors on some
        # inputs (a claim of 1e400 parses to infinity; a header nested 10,000 deep exhausts the JSON parser).
        raise Unauthorized("The token is not valid.", code="invalid_token") from exc
    if payload.get("type") != expected.value:
        raise Unauthorized(expected.required_message, code="invalid_token")
    claims = _claims(payload, expected)
    if claims is None:
        raise Unauthorized("The token is not valid.", code="invalid_token")
    return claims


def _claims(payload: dict[str, Any], expected: TokenType) -> TokenClaims | None:
    """The claims, or None when one of them is not what this server issues: a user id beyond the column (int4), a
    time no datetime can hold (`exp: 1e20` is a valid signed number, and `datetime.fromtimestamp` overflows), a
    `jti` or family that is not a short string."""
    sub, jti, family = payload["sub"], payload["jti"], payload.get("fam")
    if not (isinstance(sub, str) and 0 < len(sub) <= 10 and sub.isascii() and sub.isdigit()):
        return None
    if not 1 <= int(sub) <= INT4_MAX:
        return None
    if not _is_claim_text(jti) or not (family is None or _is_claim_text(family)):
        return None
    try:
        issued_at = datetime.fromtimestamp(int(payload["iat"]), UTC)
        expires_at = datetime.fromtimestamp(int(payload["exp"]), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
    return TokenClaims(
        user_id=int(sub),
        jti=jti,
        type=expected,
        issued_at=issued_at,
        expires_at=expires_at,
        family_id=family,
    )


def _is_claim_text(value: object) -> bool:
    """jti and fam are `secrets.token_urlsafe(24)` here (32 characters); they are looked up in the database."""
    return isinstance(value, str) and 0 < len(value) <= MAX_CLAIM_TEXT and value.isascii() and value.isprintable()
