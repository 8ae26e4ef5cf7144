"""Typed dependencies of the settings domain."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from twosigma.db.session import DbSession
from twosigma.kit.deps import AppSettings
from twosigma.kit.state import app_state
from twosigma.system_settings.cache import EffectiveCache, env_key
from twosigma.system_settings.effective import EffectiveSettings, get_effective_settings


async def get_effective_cache(request: Request) -> EffectiveCache:
    return app_state(request).effective_cache


async def effective_settings(request: Request, session: DbSession, settings: AppSettings) -> EffectiveSettings:
    """Served from the process's cache; read (and cached) when a write anywhere has emptied it."""
    cache = app_state(request).effective_cache
    key = env_key()
    hit = cache.get(key)
    if hit is not None:
        return hit
    generation = cache.generation
    effective = await get_effective_settings(session, settings)
    cache.put(key, effective, generation)
    return effective


# The settings in force for this request (stored > environment > default), secrets decrypted.
Effective = Annotated[EffectiveSettings, Depends(effective_settings)]
EffectiveCacheDep = Annotated[EffectiveCache, Depends(get_effective_cache)]
