"""What goes into a provider and what comes out: text deltas, then one `Completed` with usage."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol


@dataclass(frozen=True)
class LLMMessage:
    role: Literal["user", "assistant"]
    content: str


@dataclass(frozen=True)
class LLMRequest:
    messages: Sequence[LLMMessage]
    system: str | None = None
    # None: the provider's defaults from settings (llm.default_model, llm.temperature, llm.max_tokens).
    model: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass(frozen=True)
class Completed:
    """The last event of a successful stream."""

    model: str
    stop_reason: str | None
    usage: Usage = field(default_factory=Usage)


LLMEvent = TextDelta | Completed

# Stop reasons are normalized to Anthropic's vocabulary; others pass through as the provider said them.
END_TURN = "end_turn"
MAX_TOKENS = "max_tokens"


class LLMProvider(Protocol):
    """`stream` yields TextDelta events, then exactly one Completed. Failures — before the first event or in the
    middle of the stream — raise LLMNotConfigured, LLMRateLimited or LLMError (twosigma.llm.errors)."""

    @property
    def name(self) -> str: ...

    @property
    def default_model(self) -> str: ...

    def stream(self, request: LLMRequest) -> AsyncIterator[LLMEvent]: ...
