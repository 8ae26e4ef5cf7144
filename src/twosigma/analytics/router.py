"""GET /admin/analytics/overview."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from twosigma.analytics import service
from twosigma.analytics.schemas import AnalyticsOverview
from twosigma.authz.dependencies import CurrentPrincipal
from twosigma.db.session import DbSession
from twosigma.kit.clock import Now
from twosigma.kit.params import IdQuery
from twosigma.kit.routing import APIRouter
from twosigma.kit.schemas import error_responses

router = APIRouter(prefix="/admin/analytics", tags=["analytics"])


@router.get("/overview", response_model=AnalyticsOverview, responses=error_responses(401, 403, 404, 422))
async def analytics_overview(
    session: DbSession,
    principal: CurrentPrincipal,
    now: Now,
    university_id: Annotated[
        IdQuery, Query(description="Scope to one university (university admins: default theirs).")
    ] = None,
) -> AnalyticsOverview:
    """Users, activity, enrolments, course progress, tutor usage and top courses; platform-wide or per university."""
    return await service.overview(session, principal, university_id, now)
