"""Feature requests: feedback about the platform, not tenant data. Authors see their own; platform admins triage."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.authz.policy import can_triage_feature_requests, can_view_feature_request
from twosigma.authz.principal import Principal
from twosigma.enums import FeatureRequestStatus
from twosigma.feature_requests import repository as repo
from twosigma.feature_requests.models import FeatureRequest
from twosigma.kit.errors import Conflict, Forbidden, not_found


async def visible_request(session: AsyncSession, principal: Principal, request_id: int) -> FeatureRequest:
    """The request if the caller may see it (their own, or any for a platform admin); 404 otherwise."""
    request = await repo.get(session, request_id)
    if request is None or not can_view_feature_request(principal, request.user_id):
        raise not_found("Feature request", code="feature_request_not_found")
    return request


def lists_everyone(principal: Principal, mine: bool) -> bool:
    """Whether the list shows every author's requests (platform admins, unless they ask for their own)."""
    return can_triage_feature_requests(principal) and not mine


def ensure_may_set_status(principal: Principal) -> None:
    if not can_triage_feature_requests(principal):
        raise Forbidden("Only a platform administrator may change a feature request's status.")


def ensure_may_delete(principal: Principal, request: FeatureRequest) -> None:
    """Platform admins delete any request; authors withdraw their own while it is still OPEN."""
    if not can_triage_feature_requests(principal) and request.status is not FeatureRequestStatus.OPEN:
        raise Conflict(
            "Only an OPEN feature request can be withdrawn; this one has been triaged.",
            code="feature_request_not_open",
            details={"status": request.status.value},
        )
