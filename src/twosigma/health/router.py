"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel

from twosigma.authz.metrics import check_metrics_access
from twosigma.db.session import get_database
from twosigma.health.service import check_readiness
from twosigma.kit.handlers import error_response
from twosigma.kit.metrics import render_metrics
from twosigma.kit.routing import APIRouter
from twosigma.kit.schemas import error_responses
from twosigma.kit.state import app_state


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    database: str
    migrations: str
    # Present only when something works in a reduced way (e.g. {"retrieval": "...full-text only..."}).
    details: dict[str, str] | None = None


async def health() -> Health:
    return Health(status="ok")


async def ready(request: Request) -> Readiness | JSONResponse:
    result = await check_readiness(get_database(request))
    if result.ok:
        details = {"retrieval": result.retrieval} if result.retrieval else None
        return Readiness(status="ready", database="ok", migrations="head", details=details)
    return error_response(
        503, "not_ready", result.reason, {"database": result.database, "migrations": result.migrations}
    )


def health_router() -> APIRouter:
    """The probes, on a router of their own each call: app.py includes them twice (at the root for load balancers,
    under /api/v1 in the documented API), and a route object is included at one place only (kit/routing.py)."""
    router = APIRouter(tags=["health"])
    router.add_api_route("/health", health, methods=["GET"], response_model=Health, summary="The process is up")
    router.add_api_route(
        "/health/ready",
        ready,
        methods=["GET"],
        response_model=Readiness,
        response_model_exclude_none=True,
        responses=error_responses(503),
        summary="The database is reachable and migrated to head",
    )
    return router


metrics_router = APIRouter()


@metrics_router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Prometheus figures (kit/metrics.py), for whom authz/metrics.py lets scrape."""
    state = app_state(request)
    check_metrics_access(state.settings, request.headers.get("authorization", ""))
    engine = state.db.engine if state.db is not None else None
    return Response(render_metrics(engine), media_type=CONTENT_TYPE_LATEST)
