"""Typed dependencies: the caller as a prompt reader or writer (v1), the API key as writer (public), the cache."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from twosigma.api_keys.dependencies import PublicApiKey
from twosigma.authz.dependencies import CurrentPrincipal
from twosigma.authz.policy import (
    can_move_protected_prompt_labels,
    can_read_prompts,
    can_write_prompts,
    ensure_allowed,
)
from twosigma.authz.principal import Principal
from twosigma.prompts.cache import PromptCache, prompt_cache_of
from twosigma.prompts.service import Actor

API_CREATED_BY = "API"  # what Langfuse stores as `createdBy` for API-created versions


async def get_prompt_cache(request: Request) -> PromptCache:
    return prompt_cache_of(request.app.state)


async def require_prompt_reader(principal: CurrentPrincipal) -> Principal:
    ensure_allowed(can_read_prompts(principal), "Only staff and platform administrators may read prompts.")
    return principal


async def require_prompt_writer(principal: CurrentPrincipal) -> Actor:
    ensure_allowed(can_write_prompts(principal), "Only a platform administrator may change prompts.")
    return Actor(
        created_by=str(principal.id),
        audit=f"user:{principal.id}",
        may_move_protected=can_move_protected_prompt_labels(principal),
    )


async def api_key_actor(key: PublicApiKey) -> Actor:
    # An API key acts with a platform administrator's prompt rights, `production` included (as in Langfuse).
    return Actor(created_by=API_CREATED_BY, audit=f"api_key:{key.id}", may_move_protected=True)


PromptCacheDep = Annotated[PromptCache, Depends(get_prompt_cache)]
PromptReader = Annotated[Principal, Depends(require_prompt_reader)]
PromptWriter = Annotated[Actor, Depends(require_prompt_writer)]
ApiKeyActor = Annotated[Actor, Depends(api_key_actor)]
