"""The per-process cache of resolved prompts, and of the Langfuse JSON of each one the public GET served.

Every prompt write invalidates `PromptCache.payload` ("prompts", kit/cache.py) inside its transaction, and the
whole cache goes: a resolved prompt embeds other prompts, so one name's write can change many entries.
"""

from __future__ import annotations

from typing import ClassVar

from twosigma.kit.cache import InvalidatedCache
from twosigma.prompts.composition import ResolvedPrompt

CacheKey = tuple[str, str]


def key_for(name: str, version: int | None, label: str | None) -> CacheKey:
    return (name, f"version:{version}" if version is not None else f"label:{label}")


class PromptCache(InvalidatedCache[CacheKey, ResolvedPrompt]):
    """Resolved prompts by (name, version or label), and beside them the response body the public GET sent."""

    payload: ClassVar[str] = "prompts"

    def __init__(self) -> None:
        super().__init__()
        self._bodies: dict[CacheKey, bytes] = {}

    def body(self, key: CacheKey) -> bytes | None:
        return self._bodies.get(key)

    def put_body(self, key: CacheKey, body: bytes, generation: int) -> None:
        if generation == self.generation:
            self._bodies[key] = body

    def clear(self) -> None:
        self._bodies.clear()
        super().clear()
