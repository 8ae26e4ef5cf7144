"""Typed dependencies of the LLM domain."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from twosigma.llm.factory import ProviderRegistry


def get_provider_registry(request: Request) -> ProviderRegistry:
    """The process's registry, made on first use (so every app, test apps included, gets one)."""
    state = request.app.state
    registry: ProviderRegistry | None = getattr(state, "llm_providers", None)
    if registry is None:
        registry = state.llm_providers = ProviderRegistry()
    return registry


Providers = Annotated[ProviderRegistry, Depends(get_provider_registry)]
