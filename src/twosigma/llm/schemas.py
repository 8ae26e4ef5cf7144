"""Response shapes of the LLM admin routes."""

from __future__ import annotations

from pydantic import BaseModel


class UsageRead(BaseModel):
    input_tokens: int
    output_tokens: int


class LLMCheckRead(BaseModel):
    provider: str
    model: str
    latency_ms: int
    usage: UsageRead
    stop_reason: str | None
    text: str
