"""Anthropic Messages API, direct (AsyncAnthropic) or through Bedrock (AsyncAnthropicBedrock): same events."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import anthropic
import httpx2

from twosigma.llm.errors import LLMError, LLMFailure, LLMNotConfigured, LLMRateLimited, retry_after_seconds
from twosigma.llm.types import Completed, LLMEvent, LLMRequest, TextDelta, Usage

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Defaults:
    model: str
    temperature: float
    max_tokens: int


class AnthropicProvider:
    def __init__(
        self, client: anthropic.AsyncAnthropic | anthropic.AsyncAnthropicBedrock, *, name: str, defaults: Defaults
    ) -> None:
        self._client = client
        self._name = name
        self._defaults = defaults

    @property
    def name(self) -> str:
        return self._name

    @property
    def default_model(self) -> str:
        return self._defaults.model

    def _arguments(self, request: LLMRequest) -> dict[str, Any]:
        # No temperature: the Messages API of the anthropic SDK 2.x has no sampling parameters (current models
        # choose their own), so a temperature from settings or a prompt's config is not sent to Anthropic/Bedrock.
        arguments: dict[str, Any] = {
            "model": request.model or self._defaults.model,
            "max_tokens": request.max_tokens or self._defaults.max_tokens,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
        }
        if request.system:
            arguments["system"] = request.system
        return arguments

    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMEvent]:
        arguments = self._arguments(request)
        model: str = arguments["model"]
        input_tokens = output_tokens = 0
        stop_reason: str | None = None
        finished = False
        try:
            events = await self._client.messages.create(stream=True, **arguments)
            async with events:
                async for event in events:
                    if event.type == "message_start":
                        model = event.message.model or model
                        input_tokens = event.message.usage.input_tokens or 0
                        output_tokens = event.message.usage.output_tokens or 0
                    elif event.type == "content_block_delta" and event.delta.type == "text_delta":
                        yield TextDelta(event.delta.text)
                    elif event.type == "message_delta":
                        stop_reason = event.delta.stop_reason
                        output_tokens = event.usage.output_tokens or output_tokens
                        input_tokens = event.usage.input_tokens or input_tokens
                    elif event.type == "message_stop":
                        finished = True
        except LLMFailure:
            raise
        except Exception as exc:
            raise self._translate(exc) from exc
        if not finished:
            raise LLMError("The provider's stream ended before the answer was complete.")
        yield Completed(model=model, stop_reason=stop_reason, usage=Usage(input_tokens, output_tokens))

    def _translate(self, exc: Exception) -> LLMFailure:
        # Log the kind of failure only: bodies may echo the request.
        logger.warning("%s call failed: %s", self._name, type(exc).__name__)
        if isinstance(exc, anthropic.RateLimitError):
            return LLMRateLimited(retry_after=retry_after_seconds(exc.response.headers))
        if isinstance(exc, anthropic.APIStatusError):
            kind = _error_type(exc.body)
            if kind == "rate_limit_error":
                return LLMRateLimited(retry_after=retry_after_seconds(exc.response.headers))
            if exc.status_code in (401, 403):
                return LLMError(f"The {self._name} provider refused the credentials ({exc.status_code}).")
            return LLMError(f"The {self._name} provider failed ({kind or exc.status_code}).")
        # Before the response the SDK wraps transport errors; in the middle of a stream they come through as the
        # HTTP library raised them.
        if isinstance(exc, anthropic.APITimeoutError | httpx2.TimeoutException):
            return LLMError(f"The {self._name} provider did not answer in time.")
        if isinstance(exc, anthropic.APIConnectionError):
            return LLMError(f"The {self._name} provider could not be reached.")
        if isinstance(exc, httpx2.TransportError):
            return LLMError(f"The connection to the {self._name} provider was lost in the middle of the answer.")
        if "credential" in str(exc).lower() and self._name == "bedrock":
            return LLMNotConfigured("No AWS credentials could be resolved for Bedrock.")
        return LLMError(f"The {self._name} provider sent an answer that could not be read.")


def _error_type(body: object) -> str | None:
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and isinstance(error.get("type"), str):
            return str(error["type"])
    return None
