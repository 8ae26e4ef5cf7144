"""The per-process cache of verified API keys: the public prompt API answers a warm prompt with no query.

Holds only keys that exist and are not revoked, by public key, with their secret's HMAC (every request still
checks its secret against it) and their scopes (fixed when a key is made, so a cached copy cannot go stale).
Revocation invalidates `ApiKeyCache.payload` ("api_keys", kit/cache.py): this process's cache empties at once and
every other process's when the NOTIFY arrives (milliseconds after the commit).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from twosigma.kit.cache import InvalidatedCache


@dataclass(frozen=True)
class VerifiedKey:
    id: int
    public_key: str
    secret_hash: str
    scopes: frozenset[str]  # api_keys/scopes.py; what each route needs is decided in authz/scopes.py
    last_used_at: datetime | None  # as last written by this process or read from the database


class ApiKeyCache(InvalidatedCache[str, VerifiedKey]):
    payload: ClassVar[str] = "api_keys"
