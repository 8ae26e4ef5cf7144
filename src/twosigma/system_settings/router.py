"""/admin/settings: the key/value store, PLATFORM_ADMIN only."""

from __future__ import annotations

from fastapi import Response, status

from twosigma.authz.dependencies import PlatformAdmin
from twosigma.db.session import DbSession
from twosigma.kit.deps import AppSettings
from twosigma.kit.routing import APIRouter
from twosigma.kit.schemas import error_responses
from twosigma.system_settings import service
from twosigma.system_settings.dependencies import EffectiveCacheDep
from twosigma.system_settings.schemas import SettingList, SettingRead, SettingSchema, SettingWrite

router = APIRouter(prefix="/admin/settings", tags=["admin: settings"], responses=error_responses(401, 403))


@router.get("", response_model=SettingList, summary="List stored settings (secrets masked)")
async def list_settings(admin: PlatformAdmin, session: DbSession, settings: AppSettings) -> SettingList:
    return await service.list_settings(session, settings)


@router.get("/schema", response_model=SettingSchema, summary="The known keys: type, default, secrecy, env vars")
async def settings_schema(admin: PlatformAdmin) -> SettingSchema:
    return service.settings_schema()


@router.get("/{key}", response_model=SettingRead, responses=error_responses(404))
async def get_setting(key: str, admin: PlatformAdmin, session: DbSession, settings: AppSettings) -> SettingRead:
    return await service.get_setting(session, settings, key)


@router.put(
    "/{key}",
    response_model=SettingRead,
    responses=error_responses(422, 503),
    summary="Create or replace a setting (secret keys are always encrypted)",
)
async def put_setting(
    key: str,
    body: SettingWrite,
    admin: PlatformAdmin,
    session: DbSession,
    settings: AppSettings,
    cache: EffectiveCacheDep,
) -> SettingRead:
    return await service.put_setting(session, settings, key, body, cache=cache)


@router.delete("/{key}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(404))
async def delete_setting(key: str, admin: PlatformAdmin, session: DbSession, cache: EffectiveCacheDep) -> Response:
    await service.delete_setting(session, key, cache=cache)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
