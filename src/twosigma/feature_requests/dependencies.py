"""Typed dependencies: a feature request the caller may see."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from twosigma.authz.dependencies import CurrentPrincipal
from twosigma.db.session import DbSession
from twosigma.feature_requests import service
from twosigma.feature_requests.models import FeatureRequest


async def get_visible_request(
    session: DbSession, principal: CurrentPrincipal, request_id: Annotated[int, Path(ge=1, le=2_147_483_647)]
) -> FeatureRequest:
    return await service.get_visible(session, principal, request_id)


VisibleFeatureRequest = Annotated[FeatureRequest, Depends(get_visible_request)]
