"""Typed dependencies: a feature request the caller may see."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from twosigma.authz.dependencies import CurrentPrincipal
from twosigma.db.session import DbSession
from twosigma.feature_requests import service
from twosigma.feature_requests.models import FeatureRequest
from twosigma.kit.params import IdPath


async def get_visible_request(session: DbSession, principal: CurrentPrincipal, request_id: IdPath) -> FeatureRequest:
    return await service.get_visible(session, principal, request_id)


VisibleFeatureRequest = Annotated[FeatureRequest, Depends(get_visible_request)]
