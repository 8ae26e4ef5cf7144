"""Access tokens for the platform's Advantage services: OAuth2 client credentials with the tool's signed JWT as the
client assertion (RFC 7523, IMS Security Framework §4.1), cached per platform and scope until a minute before
they expire."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.config import Settings
from twosigma.lti.services import keys, outbound

CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TOKEN_MARGIN_SECONDS = 60


class ServiceCallFailed(Exception):
    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class _Token:
    value: str
    expires_at: float


class TokenCache:
    """Access tokens by (platform, scope), kept until `TOKEN_MARGIN_SECONDS` before they expire."""

    def __init__(self) -> None:
        self._tokens: dict[tuple[int, str], _Token] = {}
        self._lock = asyncio.Lock()
        self.fetches = 0

    def drop(self, platform_id: int, scope: str) -> None:
        self._tokens.pop((platform_id, scope), None)

    def clear(self) -> None:
        self._tokens.clear()

    async def token(
        self, session: AsyncSession, settings: Settings, client: httpx.AsyncClient, row: Any, scope: str
    ) -> str:
        key = (int(row.platform_id), scope)
        async with self._lock:
            cached = self._tokens.get(key)
            if cached is not None and cached.expires_at - TOKEN_MARGIN_SECONDS > time.monotonic():
                return cached.value
            reason = await outbound.refusal(settings, row.auth_token_url)
            if reason is not None:
                raise ServiceCallFailed(f"token endpoint refused: {reason}", permanent=True)
            assertion = await keys.sign(
                session, settings, {"iss": row.client_id, "sub": row.client_id, "aud": row.auth_token_url}
            )
            form = {
                "grant_type": "client_credentials",
                "client_assertion_type": CLIENT_ASSERTION_TYPE,
                "client_assertion": assertion,
                "scope": scope,
            }
            try:
                response = await client.post(row.auth_token_url, data=form, headers={"Accept": "application/json"})
            except httpx.HTTPError as exc:
                raise ServiceCallFailed(f"token endpoint unreachable ({type(exc).__name__})", permanent=False) from exc
            if response.status_code != 200:
                raise ServiceCallFailed(
                    f"token endpoint answered HTTP {response.status_code}: {response.text[:200]}",
                    permanent=400 <= response.status_code < 500,
                )
            try:
                body = response.json()
                value, lifetime = str(body["access_token"]), int(body.get("expires_in", 3600))
            except (ValueError, KeyError, TypeError) as exc:
                raise ServiceCallFailed("token endpoint answered no access token", permanent=False) from exc
            self.fetches += 1
            self._tokens[key] = _Token(value, time.monotonic() + lifetime)
            return value


_TOKENS = TokenCache()


def token_cache() -> TokenCache:
    return _TOKENS
