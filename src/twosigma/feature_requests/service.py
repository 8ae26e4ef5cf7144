"""Feature requests: anyone signed in files them; platform administrators triage them."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.authz.access.feature_requests import (
    ensure_may_delete,
    ensure_may_set_status,
    lists_everyone,
)
from twosigma.authz.principal import Principal
from twosigma.enums import FeatureRequestStatus
from twosigma.feature_requests import repository as repo
from twosigma.feature_requests.models import FeatureRequest
from twosigma.feature_requests.schemas import FeatureRequestCreate
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
    everyone = lists_everyone(principal, mine)
    return await paginate(session, repo.list_query(None if everyone else principal.id, status), params)


async def set_status(
    session: AsyncSession, principal: Principal, request: FeatureRequest, status: FeatureRequestStatus
) -> FeatureRequest:
    ensure_may_set_status(principal)
    if request.status is not status:
        request.status = status
        await session.flush()
        await session.refresh(request)
    return request


async def delete(session: AsyncSession, principal: Principal, request: FeatureRequest) -> None:
    """Platform admins delete any request; authors withdraw their own while it is still OPEN."""
    ensure_may_delete(principal, request)
    await session.delete(request)
    await session.flush()


async def erase_user(session: AsyncSession, user_id: int) -> None:
    """An account being erased: its feature requests go (their free text may name the person)."""
    await repo.delete_of_user(session, user_id)
