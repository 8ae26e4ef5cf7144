"""The fallback provider: `llm.fallback_provider` (with the credentials for that provider of whoever set it: the
platform, or a university with its own provider — university_settings.py) and `llm.fallback_model` take a turn
when the primary fails BEFORE the first token with a 5xx, a 429 or a timeout (or cannot be reached at all). A 4xx
(a bad request, refused credentials) is the request's or the configuration's fault and would fail on the fallback
too: it is not retried there."""

from __future__ import annotations

import dataclasses
import logging

import anthropic
import httpx2
import openai

from twosigma.llm.errors import LLMFailure, LLMNotConfigured, LLMRateLimited
from twosigma.llm.factory import ProviderRegistry
from twosigma.llm.types import LLMProvider
from twosigma.system_settings.effective import EffectiveSettings

logger = logging.getLogger(__name__)

_STATUS_ERRORS = (anthropic.APIStatusError, openai.APIStatusError)
_UNREACHABLE = (anthropic.APIConnectionError, openai.APIConnectionError, httpx2.TimeoutException)


def fallback_provider(registry: ProviderRegistry, effective: EffectiveSettings) -> LLMProvider | None:
    """The fallback of `effective`: pass the settings the turn's primary was built from (`TurnGovernance.llm`), so
    a university with its own provider gets its own fallback or none. None when no fallback is set, it is the
    primary itself, or it lacks its credentials (logged)."""
    name = effective.llm_fallback_provider
    if name is None or name == effective.llm_provider:
        return None
    settings = dataclasses.replace(effective, llm_provider=name, llm_default_model=effective.llm_fallback_model)
    try:
        return registry.provider(settings)
    except LLMNotConfigured as exc:
        logger.warning("fallback provider %s is not usable: %s", name, exc.message)
        return None


def falls_back(error: LLMFailure) -> bool:
    """Whether the fallback should take a turn the primary failed with `error` (before its first token)."""
    if isinstance(error, LLMRateLimited):
        return True
    cause = error.__cause__
    if isinstance(cause, _STATUS_ERRORS):
        return cause.status_code >= 500 or cause.status_code == 429
    return isinstance(cause, _UNREACHABLE)
