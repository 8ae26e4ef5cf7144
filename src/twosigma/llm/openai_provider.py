"""OpenAI chat completions (api.openai.com or any OpenAI-compatible base URL), streamed with usage."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import openai

from twosigma.llm.anthropic_provider import Defaults
from twosigma.llm.errors import LLMError, LLMFailure, LLMRateLimited, retry_after_seconds
from twosigma.llm.types import END_TURN, MAX_TOKENS, Completed, LLMEvent, LLMRequest, TextDelta, Usage

logger = logging.getLogger(__name__)

_STOP_REASONS = {"stop": END_TURN, "length": MAX_TOKENS}


class OpenAIProvider:
    def __init__(self, client: openai.AsyncOpenAI, *, defaults: Defaults, official_endpoint: bool) -> None:
        self._client = client
        self._defaults = defaults
        # api.openai.com wants max_completion_tokens (reasoning models refuse max_tokens); compatible servers
        # (vLLM, Ollama, gateways) widely know only max_tokens.
        self._max_tokens_field = "max_completion_tokens" if official_endpoint else "max_tokens"

    @property
    def name(self) -> str:
        return "openai"

    @property
    def default_model(self) -> str:
        return self._defaults.model

    def _arguments(self, request: LLMRequest) -> dict[str, Any]:
        messages: list[dict[str, str]] = []
        if request.system:
            messages.append({"role": "system", "content": request.system})
        messages += [{"role": m.role, "content": m.content} for m in request.messages]
        return {
            "model": request.model or self._defaults.model,
            "messages": messages,
            "temperature": self._defaults.temperature if request.temperature is None else request.temperature,
            self._max_tokens_field: request.max_tokens or self._defaults.max_tokens,
            "stream": True,
            "stream_options": {"include_usage": True},
        }

    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMEvent]:
        arguments = self._arguments(request)
        model: str = arguments["model"]
        usage = Usage()
        stop_reason: str | None = None
        try:
            chunks = await self._client.chat.completions.create(**arguments)
            async with chunks:
                async for chunk in chunks:
                    model = chunk.model or model
                    if chunk.usage is not None:
                        usage = Usage(chunk.usage.prompt_tokens or 0, chunk.usage.completion_tokens or 0)
                    for choice in chunk.choices:
                        if choice.index != 0:
                            continue
                        if choice.delta is not None and choice.delta.content:
                            yield TextDelta(choice.delta.content)
                        if choice.finish_reason:
                            stop_reason = _STOP_REASONS.get(choice.finish_reason, choice.finish_reason)
        except LLMFailure:
            raise
        except Exception as exc:
            raise _translate(exc) from exc
        if stop_reason is None:
            raise LLMError("The provider's stream ended before the answer was complete.")
        yield Completed(model=model, stop_reason=stop_reason, usage=usage)


def _translate(exc: Exception) -> LLMFailure:
    logger.warning("openai call failed: %s", type(exc).__name__)
    if isinstance(exc, openai.RateLimitError):
        return LLMRateLimited(retry_after=retry_after_seconds(exc.response.headers))
    if isinstance(exc, openai.APIStatusError):
        if exc.status_code in (401, 403):
            return LLMError(f"The openai provider refused the credentials ({exc.status_code}).")
        return LLMError(f"The openai provider failed ({exc.status_code}).")
    if isinstance(exc, openai.APITimeoutError | httpx2.TimeoutException):
        return LLMError("The openai provider did not answer in time.")
    if isinstance(exc, openai.APIConnectionError):
        return LLMError("The openai provider could not be reached.")
    if isinstance(exc, httpx2.TransportError):
        return LLMError("The connection to the openai provider was lost in the middle of the answer.")
    if isinstance(exc, openai.APIError):
        return LLMError("The openai provider reported an error in the middle of the answer.")
    return LLMError("The openai provider sent an answer that could not be read.")
