"""/api-keys: platform administrators create (the secret shown once, the scopes chosen then), list and revoke keys."""

from __future__ import annotations

from typing import Any

from fastapi import Response
from fastapi import status as http

from twosigma.api_keys import service
from twosigma.api_keys.dependencies import ApiKeyCacheDep
from twosigma.api_keys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead
from twosigma.authz.dependencies import PlatformAdmin
from twosigma.db.session import DbSession
from twosigma.kit.deps import AppSettings
from twosigma.kit.pagination import Page, Pagination
from twosigma.kit.params import IdPath
from twosigma.kit.routing import APIRouter
from twosigma.kit.schemas import error_responses

router = APIRouter(prefix="/api-keys", tags=["api-keys"])


@router.post(
    "", response_model=ApiKeyCreated, status_code=http.HTTP_201_CREATED, responses=error_responses(401, 403, 422)
)
async def create_api_key(
    session: DbSession, settings: AppSettings, admin: PlatformAdmin, body: ApiKeyCreate
) -> dict[str, Any]:
    return (await service.create_key(session, settings, body.name, admin.id, body.scopes)).as_dict()


@router.get("", response_model=Page[ApiKeyRead], responses=error_responses(401, 403, 422))
async def list_api_keys(session: DbSession, admin: PlatformAdmin, params: Pagination) -> dict[str, Any]:
    return (await service.list_keys(session, params)).as_dict()


@router.delete("/{key_id}", status_code=http.HTTP_204_NO_CONTENT, responses=error_responses(401, 403, 404, 422))
async def revoke_api_key(
    session: DbSession,
    admin: PlatformAdmin,
    cache: ApiKeyCacheDep,
    key_id: IdPath,
) -> Response:
    await service.revoke_key(session, key_id, cache=cache)
    return Response(status_code=http.HTTP_204_NO_CONTENT)
