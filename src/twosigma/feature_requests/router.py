"""/feature-requests: file, list, read, triage (status) and withdraw."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Response
from fastapi import status as http

from twosigma.authz.dependencies import CurrentPrincipal
from twosigma.db.session import DbSession
from twosigma.enums import FeatureRequestStatus
from twosigma.feature_requests import service
from twosigma.feature_requests.dependencies import VisibleFeatureRequest
from twosigma.feature_requests.models import FeatureRequest
from twosigma.feature_requests.schemas import FeatureRequestCreate, FeatureRequestRead, FeatureRequestStatusUpdate
from twosigma.kit.pagination import Page, Pagination
from twosigma.kit.routing import APIRouter
from twosigma.kit.schemas import error_responses

router = APIRouter(prefix="/feature-requests", tags=["feature-requests"])


@router.post(
    "", response_model=FeatureRequestRead, status_code=http.HTTP_201_CREATED, responses=error_responses(401, 422)
)
async def create_feature_request(
    session: DbSession, principal: CurrentPrincipal, body: FeatureRequestCreate
) -> FeatureRequest:
    return await service.create(session, principal, body)


@router.get("", response_model=Page[FeatureRequestRead], responses=error_responses(401, 422))
async def list_feature_requests(
    session: DbSession,
    principal: CurrentPrincipal,
    params: Pagination,
    status: Annotated[FeatureRequestStatus | None, Query(description="Only requests in this status.")] = None,
    mine: Annotated[bool, Query(description="Platform admins: only your own requests.")] = False,
) -> dict[str, Any]:
    """Your own requests, newest first; a platform administrator sees everyone's (unless `mine=true`)."""
    return (await service.list_requests(session, principal, status, mine, params)).as_dict()


@router.get("/{request_id}", response_model=FeatureRequestRead, responses=error_responses(401, 404, 422))
async def get_feature_request(request: VisibleFeatureRequest) -> FeatureRequest:
    return request


@router.patch("/{request_id}", response_model=FeatureRequestRead, responses=error_responses(401, 403, 404, 422))
async def set_feature_request_status(
    session: DbSession, principal: CurrentPrincipal, request: VisibleFeatureRequest, body: FeatureRequestStatusUpdate
) -> FeatureRequest:
    """Set the triage status (platform administrators only)."""
    return await service.set_status(session, principal, request, body.status)


@router.delete("/{request_id}", status_code=http.HTTP_204_NO_CONTENT, responses=error_responses(401, 404, 409, 422))
async def delete_feature_request(
    session: DbSession, principal: CurrentPrincipal, request: VisibleFeatureRequest
) -> Response:
    """Withdraw your own request while it is OPEN; platform administrators delete any."""
    await service.delete(session, principal, request)
    return Response(status_code=http.HTTP_204_NO_CONTENT)
