"""Typed dependencies on app-wide state.

Dependencies that do no I/O are `async def`: FastAPI runs a plain `def` dependency in the thread pool, a thread
hop per request on every authenticated route.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from twosigma.config import Settings
from twosigma.kit.ratelimit import RateLimiter
from twosigma.kit.state import app_state


def settings_of(request: Request) -> Settings:
    """The app's settings, read directly: the dependencies every request runs (authentication) call this rather
    than depend on `AppSettings`, since each dependency FastAPI resolves costs every request that uses it."""
    return app_state(request).settings


async def get_app_settings(request: Request) -> Settings:
    return settings_of(request)


async def get_rate_limiter(request: Request) -> RateLimiter:
    return app_state(request).rate_limiter


async def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


AppSettings = Annotated[Settings, Depends(get_app_settings)]
Limiter = Annotated[RateLimiter, Depends(get_rate_limiter)]
ClientAddress = Annotated[str, Depends(client_address)]
