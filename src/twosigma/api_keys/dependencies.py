"""HTTP Basic authentication with an API key (public key as user name, secret key as password)."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import Depends, Request

from twosigma.api_keys import service
from twosigma.api_keys.cache import ApiKeyCache, VerifiedKey
from twosigma.db.session import unit_of_work
from twosigma.kit.state import app_state


def _credentials(request: Request) -> tuple[str, str]:
    return basic_credentials(request.headers.get("authorization", ""))


def basic_credentials(header: str) -> tuple[str, str]:
    """(public key, secret key) from an `Authorization: Basic …` header value; 401 when it is not one."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        raise service.unauthorized("HTTP Basic authentication with an API key is required.")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise service.unauthorized("Malformed Basic credentials.") from exc
    public_key, sep, secret_key = decoded.partition(":")
    if not sep or not public_key or not secret_key or not _is_public_key(public_key):
        raise service.unauthorized("Malformed Basic credentials.")
    return public_key, secret_key


def _is_public_key(value: str) -> bool:
    """Only what `create_key` issues (`pk-lf-<uuid>`, printable ASCII within the column's 64) is looked up: a NUL or
    a 10 kB name is the same 401 as an unknown key, without a query the database would refuse."""
    return len(value) <= 64 and value.isascii() and value.isprintable()


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
