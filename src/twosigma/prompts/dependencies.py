"""Typed dependencies: the caller as a prompt reader or writer (v1), the API key as reader or writer by its scopes
(public) — decided by authz (authz/access/prompts.py) —, and the cache."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from twosigma.api_keys.cache import VerifiedKey
from twosigma.authz.access import dependencies as access
from twosigma.authz.access.dependencies import api_key_reader
from twosigma.authz.principal import Principal
from twosigma.kit.state import app_state
from twosigma.prompts.cache import PromptCache
from twosigma.prompts.services.changes import Actor

__all__ = ["ApiKeyReader", "ApiKeyWriter", "PromptCacheDep", "PromptReader", "PromptWriter", "api_key_reader"]


async def get_prompt_cache(request: Request) -> PromptCache:
    return app_state(request).prompt_cache


PromptCacheDep = Annotated[PromptCache, Depends(get_prompt_cache)]
PromptReader = Annotated[Principal, Depends(access.require_prompt_reader)]
PromptWriter = Annotated[Actor, Depends(access.require_prompt_writer)]
ApiKeyReader = Annotated[VerifiedKey, Depends(api_key_reader)]
ApiKeyWriter = Annotated[Actor, Depends(access.api_key_writer)]
