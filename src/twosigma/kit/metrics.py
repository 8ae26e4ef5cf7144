"""Prometheus metrics: requests, LLM calls and the database pool; served by `GET /metrics` (health/router.py) to
the holder of `TWOSIGMA_METRICS_TOKEN` (or to anyone, if the operator sets `TWOSIGMA_METRICS_PUBLIC=true` and no
token).

The metrics live in one registry per process. With several uvicorn workers each process exposes its own figures
on its own `/metrics` (scrape every worker, or sum in Prometheus); see docs/reliability.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncEngine

REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_REQUESTS = Counter(
    "twosigma_http_requests",
    "HTTP requests served, by route template, method and status.",
    ["route", "method", "status"],
    registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "twosigma_http_request_duration_seconds",
    "Time to serve an HTTP request (to the end of the response body), by route template and method.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
    registry=REGISTRY,
)
LLM_TOKENS = Counter(
    "twosigma_llm_tokens",
    "Tokens reported by the LLM provider, by provider, model and direction (input/output).",
    ["provider", "model", "direction"],
    registry=REGISTRY,
)
LLM_REPLIES = Counter(
    "twosigma_llm_replies",
    "Tutor replies stored, by provider, model and outcome (complete/incomplete).",
    ["provider", "model", "outcome"],
    registry=REGISTRY,
)
LLM_LATENCY = Histogram(
    "twosigma_llm_latency_seconds",
    "Total time of a tutor reply from the provider, by provider and model.",
    ["provider", "model"],
    buckets=(0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120),
    registry=REGISTRY,
)
LLM_FIRST_TOKEN = Histogram(
    "twosigma_llm_time_to_first_token_seconds",
    "Time to the first streamed token of a tutor reply, by provider and model.",
    ["provider", "model"],
    buckets=(0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30),
    registry=REGISTRY,
)


def observe_llm_reply(meta: dict[str, Any]) -> None:
    """Count one stored tutor reply from its `meta` (provider, model, tokens, latencies, incomplete)."""
    provider = str(meta.get("provider") or "none")
    model = str(meta.get("model") or "unknown")
    for direction in ("input", "output"):
        tokens = meta.get(f"{direction}_tokens")
        if isinstance(tokens, int) and tokens > 0:
            LLM_TOKENS.labels(provider, model, direction).inc(tokens)
    LLM_REPLIES.labels(provider, model, "incomplete" if meta.get("incomplete") else "complete").inc()
    latency = meta.get("latency_ms")
    if isinstance(latency, int | float):
        LLM_LATENCY.labels(provider, model).observe(latency / 1000)
    first = meta.get("time_to_first_token_ms")
    if isinstance(first, int | float):
        LLM_FIRST_TOKEN.labels(provider, model).observe(first / 1000)


class PoolCollector(Collector):
    """The SQLAlchemy pool's state, read when scraped."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        pool: Any = self.engine.sync_engine.pool
        figures = {
            "size": ("Configured pool size.", "size"),
            "checked_out": ("Connections in use.", "checkedout"),
            "checked_in": ("Idle connections in the pool.", "checkedin"),
            "overflow": ("Connections open beyond the pool size (negative: room left before the size).", "overflow"),
        }
        for name, (doc, method) in figures.items():
            reader = getattr(pool, method, None)
            if reader is None:
                continue
            yield GaugeMetricFamily(f"twosigma_db_pool_{name}", doc, value=float(reader()))


def render_metrics(engine: AsyncEngine | None) -> bytes:
    output = generate_latest(REGISTRY)
    if engine is not None:
        pool_registry = CollectorRegistry(auto_describe=False)
        pool_registry.register(PoolCollector(engine))
        output += generate_latest(pool_registry)
    return output
