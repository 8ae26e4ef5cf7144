"""HTTP Basic authentication with an API key (public key as user name, secret key as password)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from twosigma.api_keys import service
from twosigma.api_keys.cache import ApiKeyCache, VerifiedKey
from twosigma.api_keys.credentials import basic_credentials
from twosigma.db.session import unit_of_work
from twosigma.kit.state import app_state


def _credentials(request: Request) -> tuple[str, str]:
    return basic_credentials(request.headers.get("authorization", ""))


async def get_api_key_cache(request: Request) -> ApiKeyCache:
    return app_state(request).api_key_cache


async def get_api_key(request: Request) -> VerifiedKey:
    """The verified key: from the process cache when it holds the key and its use was recorded in the last minute,
    with no database session at all; otherwise in a short unit of work of its own (lookup, `last_used_at`)."""
    public_key, secret_key = _credentials(request)
    state = app_state(request)
    settings, cache = state.settings, state.api_key_cache
    cached = service.authenticate_cached(settings, public_key, secret_key, cache=cache)
    if cached is not None:
        return cached
    async with unit_of_work(request) as session:
        return await service.authenticate(session, settings, public_key, secret_key, cache=cache)


ApiKeyCacheDep = Annotated[ApiKeyCache, Depends(get_api_key_cache)]
PublicApiKey = Annotated[VerifiedKey, Depends(get_api_key)]
