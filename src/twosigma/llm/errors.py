"""Provider failures as the API reports them: 503 llm_not_configured, 503 llm_rate_limited (with Retry-After),
502 llm_error for everything else. All are LLMFailure, so the tutor can catch them as one."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from twosigma.kit.errors import AppError, Unavailable, UpstreamError

DEFAULT_RETRY_AFTER = 5


class LLMFailure(AppError):
    """Marker base of every LLM error."""


class LLMNotConfigured(Unavailable, LLMFailure):
    code = "llm_not_configured"
    default_message = "No LLM provider is configured; a platform administrator must set llm.provider and its key."


class LLMRateLimited(Unavailable, LLMFailure):
    code = "llm_rate_limited"
    default_message = "The LLM provider is rate limiting this platform; try again shortly."

    def __init__(self, message: str | None = None, *, retry_after: int = DEFAULT_RETRY_AFTER, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = max(1, int(retry_after))
        self.headers["Retry-After"] = str(self.retry_after)


class LLMError(UpstreamError, LLMFailure):
    code = "llm_error"
    default_message = "The LLM provider failed to answer."


def retry_after_seconds(headers: Mapping[str, str] | None) -> int:
    """Seconds from `retry-after-ms`, `retry-after` (seconds or an HTTP date); a default when absent."""
    if not headers:
        return DEFAULT_RETRY_AFTER
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        if "retry-after-ms" in lowered:
            return max(1, math.ceil(float(lowered["retry-after-ms"]) / 1000))
        raw = lowered.get("retry-after")
        if raw is None:
            return DEFAULT_RETRY_AFTER
        try:
            return max(1, math.ceil(float(raw)))
        except ValueError:
            when = parsedate_to_datetime(raw)
            return max(1, math.ceil((when - datetime.now(UTC)).total_seconds()))
    except (ValueError, TypeError, OverflowError):
        return DEFAULT_RETRY_AFTER
