"""Typed dependencies: the caller as a prompt reader or writer (v1), the API key as reader or writer by its scopes
(public), the cache."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from twosigma.api_keys.cache import VerifiedKey
from twosigma.api_keys.dependencies import PublicApiKey, get_api_key
from twosigma.api_keys.scopes import Scope
from twosigma.authz.dependencies import CurrentPrincipal
from twosigma.authz.policy import (
    can_move_protected_prompt_labels,
    can_read_prompts,
    can_write_prompts,
    ensure_allowed,
)
from twosigma.authz.principal import Principal
from twosigma.authz.scopes import deploy_refusal, ensure_scope, may_deploy
from twosigma.kit.state import app_state
from twosigma.prompts.cache import PromptCache
from twosigma.prompts.service import Actor

API_CREATED_BY = "API"  # what Langfuse stores as `createdBy` for API-created versions


async def get_prompt_cache(request: Request) -> PromptCache:
    return app_state(request).prompt_cache


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


async def api_key_reader(request: Request) -> VerifiedKey:
    # Not built on PublicApiKey: one dependency fewer for the hot GET to resolve.
    key = await get_api_key(request)
    ensure_scope(key.scopes, Scope.PROMPTS_READ, "read prompts")
    return key


async def api_key_writer(key: PublicApiKey) -> Actor:
    """A key acts by its scopes (authz/scopes.py): write to change prompts; deploy, also to touch `production`."""
    ensure_scope(key.scopes, Scope.PROMPTS_WRITE, "change prompts")
    return Actor(
        created_by=API_CREATED_BY,
        audit=f"api_key:{key.id}",
        may_move_protected=may_deploy(key.scopes),
        refuse_protected=deploy_refusal(key.scopes),
    )


PromptCacheDep = Annotated[PromptCache, Depends(get_prompt_cache)]
PromptReader = Annotated[Principal, Depends(require_prompt_reader)]
PromptWriter = Annotated[Actor, Depends(require_prompt_writer)]
ApiKeyReader = Annotated[VerifiedKey, Depends(api_key_reader)]
ApiKeyWriter = Annotated[Actor, Depends(api_key_writer)]
