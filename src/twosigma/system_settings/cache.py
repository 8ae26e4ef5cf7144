"""The settings in force, cached per process: every tutor turn and LLM check needs them, and they rarely change.

Keyed by the values of the environment variables the settings fall back on, so a changed environment (an embedding
program, a test) is seen at once, like a write.

Every write through the service (API, CLI) invalidates `EffectiveCache.payload` ("settings", kit/cache.py): this
process's cache empties at once and every other process's when the NOTIFY arrives (milliseconds after the commit).
A row changed by hand in SQL is seen after the next write or restart: change settings through the API or
`twosigma settings set`.
"""

from __future__ import annotations

import os
from typing import ClassVar

from twosigma.kit.cache import InvalidatedCache
from twosigma.system_settings.effective import EffectiveSettings
from twosigma.system_settings.registry import KNOWN_SETTINGS

ENV_VARS = tuple(name for spec in KNOWN_SETTINGS.values() for name in spec.env_vars)
EnvKey = tuple[str | None, ...]


def env_key() -> EnvKey:
    """The current values of every environment variable a known setting may come from."""
    return tuple(os.environ.get(name) for name in ENV_VARS)


class EffectiveCache(InvalidatedCache[EnvKey, EffectiveSettings]):
    """The resolved settings, by environment (in a server: one entry)."""

    payload: ClassVar[str] = "settings"
