"""Typed dependencies of the LLM domain."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from twosigma.kit.state import app_state
from twosigma.llm.factory import ProviderRegistry


async def get_provider_registry(request: Request) -> ProviderRegistry:
    """The app's registry (made in create_app, closed in the lifespan)."""
    return app_state(request).llm_providers


Providers = Annotated[ProviderRegistry, Depends(get_provider_registry)]
