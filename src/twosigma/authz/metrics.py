"""Who may scrape `GET /metrics`: decided from the operator's settings, not from a user's standing."""

from __future__ import annotations

import secrets

from twosigma.config import Settings
from twosigma.kit.errors import NotFound, Unauthorized

METRICS_SETTINGS = ("TWOSIGMA_METRICS_TOKEN", "TWOSIGMA_METRICS_PUBLIC")


def check_metrics_access(settings: Settings, authorization: str) -> None:
    """Who may scrape: the holder of the metrics token when one is set; anyone only when the operator opened
    /metrics explicitly (metrics_public) and set no token; nobody otherwise. The figures name routes, status
    counts, the pool's state and token use: not for everyone by default."""
    if not settings.metrics_enabled:
        raise NotFound()
    if settings.metrics_token is not None:
        expected = f"Bearer {settings.metrics_token.get_secret_value()}"
        if not secrets.compare_digest(authorization.encode(), expected.encode()):
            raise Unauthorized(
                "A metrics token is required: send `Authorization: Bearer <TWOSIGMA_METRICS_TOKEN>`.",
                code="metrics_token_required",
            )
        return
    if not settings.metrics_public:
        raise Unauthorized(
            "GET /metrics is closed: set TWOSIGMA_METRICS_TOKEN and scrape with `Authorization: Bearer <token>`, "
            "or set TWOSIGMA_METRICS_PUBLIC=true to open it to anyone.",
            code="metrics_not_configured",
            details={"settings": list(METRICS_SETTINGS)},
        )
