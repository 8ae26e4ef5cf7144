"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from twosigma.db.session import get_database
from twosigma.health.service import check_readiness
from twosigma.kit.handlers import error_response
from twosigma.kit.schemas import error_responses

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    database: str
    migrations: str


@router.get("/health", response_model=Health, summary="The process is up")
async def health() -> Health:
    return Health(status="ok")


@router.get(
    "/health/ready",
    response_model=Readiness,
    responses=error_responses(503),
    summary="The database is reachable and migrated to head",
)
async def ready(request: Request) -> Readiness | JSONResponse:
    result = await check_readiness(get_database(request))
    if result.ok:
        return Readiness(status="ready", database="ok", migrations="head")
    return error_response(
        503, "not_ready", result.reason, {"database": result.database, "migrations": result.migrations}
    )
