"""The settings in force, cached per process: every tutor turn and LLM check needs them, and they rarely change.

Every write through the service (API, CLI) empties this process's cache at once and every other process's through
the NOTIFY that the listener of prompts/cache.py receives (milliseconds after the commit). A row changed by hand
in SQL is seen after the next write or restart: change settings through the API or `twosigma settings set`.
"""

from __future__ import annotations

from twosigma.kit.cache import InvalidatedCache
from twosigma.system_settings.effective import EffectiveSettings


class EffectiveCache(InvalidatedCache[None, EffectiveSettings]):
    """One entry (key None): the resolved settings."""


# The process's cache: servers share it (the app's lifespan listener empties it); tests' apps get their own.
default_effective_cache = EffectiveCache()
