"""The per-process cache of verified API keys: the public prompt API answers a warm prompt with no query.

Holds only keys that exist and are not revoked, by public key, with their secret's HMAC (every request still
checks its secret against it) and their scopes (fixed when a key is made, so a cached copy cannot go stale).
Revocation empties this cache in its own process at once and in every other process through the NOTIFY the listener
of prompts/cache.py receives (milliseconds after the commit).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from twosigma.kit.cache import InvalidatedCache


@dataclass(frozen=True)
class VerifiedKey:
    id: int
    public_key: str
    secret_hash: str
    scopes: frozenset[str]  # api_keys/scopes.py; what each route needs is decided in authz/scopes.py
    last_used_at: datetime | None  # as last written by this process or read from the database


class ApiKeyCache(InvalidatedCache[str, VerifiedKey]):
    pass


# The process's cache: servers share it (the app's lifespan listener empties it); tests' apps get their own.
default_key_cache = ApiKeyCache()


def key_cache_of(state: Any) -> ApiKeyCache:
    """The app's key cache (`app.state.api_key_cache`), or the process's."""
    cache = getattr(state, "api_key_cache", None)
    return cache if isinstance(cache, ApiKeyCache) else default_key_cache
