"""The admin connectivity check: one short prompt to the configured provider."""

from __future__ import annotations

import time

from twosigma.llm.factory import ProviderRegistry
from twosigma.llm.schemas import LLMCheckRead, UsageRead
from twosigma.llm.types import Completed, LLMMessage, LLMRequest, TextDelta
from twosigma.system_settings.effective import EffectiveSettings

CHECK_PROMPT = "Reply with one short sentence confirming that you can read this."
CHECK_MAX_TOKENS = 64


async def check_provider(registry: ProviderRegistry, effective: EffectiveSettings) -> LLMCheckRead:
    provider = registry.provider(effective)
    request = LLMRequest(messages=[LLMMessage("user", CHECK_PROMPT)], max_tokens=CHECK_MAX_TOKENS)
    started = time.perf_counter()
    parts: list[str] = []
    completed: Completed | None = None
    async for event in provider.stream(request):
        if isinstance(event, TextDelta):
            parts.append(event.text)
        else:
            completed = event
    assert completed is not None  # the protocol ends every successful stream with Completed
    return LLMCheckRead(
        provider=provider.name,
        model=completed.model,
        latency_ms=round((time.perf_counter() - started) * 1000),
        usage=UsageRead(input_tokens=completed.usage.input_tokens, output_tokens=completed.usage.output_tokens),
        stop_reason=completed.stop_reason,
        text="".join(parts),
    )
