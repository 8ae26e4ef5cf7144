"""Feature requests: anyone signed in files them; platform administrators triage them."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.authz.policy import can_triage_feature_requests, can_view_feature_request
from twosigma.authz.principal import Principal
from twosigma.enums import FeatureRequestStatus
from twosigma.feature_requests import repository as repo
from twosigma.feature_requests.models import FeatureRequest
from twosigma.feature_requests.schemas import FeatureRequestCreate
from twosigma.kit.errors import Conflict, Forbidden, not_found
from twosigma.kit.pagination import PageParams, PageResult, paginate


async def create(session: AsyncSession, principal: Principal, body: FeatureRequestCreate) -> FeatureRequest:
    request = FeatureRequest(user_id=principal.id, title=body.title, description=body.description)
    session.add(request)
    await session.flush()
    await session.refresh(request)
    return request


async def list_requests(
    session: AsyncSession,
    principal: Principal,
    status: FeatureRequestStatus | None,
    mine: bool,
    params: PageParams,
) -> PageResult[FeatureRequest]:
    everyone = can_triage_feature_requests(principal) and not mine
    return await paginate(session, repo.list_query(None if everyone else principal.id, status), params)


async def get_visible(session: AsyncSession, principal: Principal, request_id: int) -> FeatureRequest:
    """The request if the caller may see it (their own, or any for a platform admin); 404 otherwise."""
    request = await repo.get(session, request_id)
    if request is None or not can_view_feature_request(principal, request.user_id):
        raise not_found("Feature request", code="feature_request_not_found")
    return request


async def set_status(
    session: AsyncSession, principal: Principal, request: FeatureRequest, status: FeatureRequestStatus
) -> FeatureRequest:
    if not can_triage_feature_requests(principal):
        raise Forbidden("Only a platform administrator may change a feature request's status.")
    if request.status is not status:
        request.status = status
        await session.flush()
        await session.refresh(request)
    return request


async def delete(session: AsyncSession, principal: Principal, request: FeatureRequest) -> None:
    """Platform admins delete any request; authors withdraw their own while it is still OPEN."""
    if not can_triage_feature_requests(principal) and request.status is not FeatureRequestStatus.OPEN:
        raise Conflict(
            "Only an OPEN feature request can be withdrawn; this one has been triaged.",
            code="feature_request_not_open",
            details={"status": request.status.value},
        )
    await session.delete(request)
    await session.flush()
