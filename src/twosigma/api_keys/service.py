"""API keys: a public key (`pk-lf-…`) and a secret (`sk-lf-…`), as Langfuse issues them.

Only HMAC-SHA256(secret, server secret key) is stored: the secret is random and long, so a keyed fast hash is as
strong as bcrypt here and keeps every public-API request cheap. Verified keys are cached per process
(api_keys/cache.py); revocation empties every process's cache, so it takes effect on the next request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.api_keys import repository as repo
from twosigma.api_keys.cache import ApiKeyCache, VerifiedKey
from twosigma.api_keys.models import ApiKey
from twosigma.api_keys.scopes import Scope, normalize
from twosigma.config import Settings
from twosigma.kit.cache import invalidate
from twosigma.kit.errors import Unauthorized, not_found
from twosigma.kit.pagination import PageParams, PageResult, paginate

TOUCH_EVERY = timedelta(minutes=1)


def hash_secret(settings: Settings, secret: str) -> str:
    key = settings.signing_secret().encode()
    return hmac.new(key, secret.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class CreatedKey:
    key: ApiKey
    secret_key: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.key.id,
            "name": self.key.name,
            "public_key": self.key.public_key,
            "secret_key": self.secret_key,
            "scopes": self.key.scopes,
            "created_at": self.key.created_at,
        }


async def create_key(
    session: AsyncSession,
    settings: Settings,
    name: str,
    created_by: int | None,
    scopes: Iterable[Scope] = (),
) -> CreatedKey:
    """A new key holding `scopes` (normalized: read always, deploy brings write); no scopes → read only."""
    public_key = f"pk-lf-{uuid.uuid4()}"
    secret_key = f"sk-lf-{secrets.token_urlsafe(32)}"
    key = ApiKey(
        public_key=public_key,
        secret_hash=hash_secret(settings, secret_key),
        name=name,
        created_by=created_by,
        scopes=normalize(scopes),
    )
    session.add(key)
    await session.flush()
    await session.refresh(key)
    return CreatedKey(key=key, secret_key=secret_key)


async def list_keys(session: AsyncSession, params: PageParams) -> PageResult[Any]:
    return await paginate(session, repo.list_stmt(), params)


async def revoke_key(session: AsyncSession, key_id: int, *, cache: ApiKeyCache | None = None) -> None:
    key = await session.get(ApiKey, key_id)
    if key is None:
        raise not_found("API key")
    if key.revoked_at is None:
        key.revoked_at = datetime.now(UTC)
        await session.flush()
        await invalidate(session, ApiKeyCache.payload, cache)


def unauthorized(message: str) -> Unauthorized:
    error = Unauthorized(message, code="invalid_api_key")
    error.headers["WWW-Authenticate"] = 'Basic realm="twosigma"'
    return error


def authenticate_cached(
    settings: Settings, public_key: str, secret_key: str, *, cache: ApiKeyCache
) -> VerifiedKey | None:
    """The cached key for this pair when it needs no database work (cached, secret right, use recorded within the
    last minute); a 401 for a wrong secret; None when `authenticate` must run."""
    key = cache.get(public_key)
    if key is None:
        return None
    if not hmac.compare_digest(key.secret_hash, hash_secret(settings, secret_key)):
        raise unauthorized("Invalid API key.")
    if key.last_used_at is None or datetime.now(UTC) - key.last_used_at >= TOUCH_EVERY:
        return None
    return key


async def authenticate(
    session: AsyncSession,
    settings: Settings,
    public_key: str,
    secret_key: str,
    *,
    cache: ApiKeyCache,
) -> VerifiedKey:
    """The key for this pair, or 401. Served from the cache when it holds the key; records use at most once a
    minute per key."""
    generation = cache.generation
    key = cache.get(public_key)
    revoked = False
    if key is None:
        row = await repo.by_public_key(session, public_key)
        if row is not None:
            key = VerifiedKey(row.id, row.public_key, row.secret_hash, frozenset(row.scopes), row.last_used_at)
            revoked = row.revoked_at is not None
    expected = key.secret_hash if key is not None else hash_secret(settings, "")
    valid = hmac.compare_digest(expected, hash_secret(settings, secret_key))
    if key is None or not valid:
        raise unauthorized("Invalid API key.")
    if revoked:
        raise unauthorized("This API key has been revoked.")
    now = datetime.now(UTC)
    if key.last_used_at is None or now - key.last_used_at >= TOUCH_EVERY:
        await repo.touch(session, key.id, now)
        key = replace(key, last_used_at=now)
    cache.put(public_key, key, generation)
    return key


async def erase_user(session: AsyncSession, user_id: int) -> None:
    """An account being erased: the keys it created keep working (they belong to the deployment's integrations,
    which must not break because an admin left) but no longer point at the person."""
    await repo.detach_creator(session, user_id)
