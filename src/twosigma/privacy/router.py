"""Take it or erase it: `/users/me/export`, `/users/me/exports/{id}`, `DELETE /users/me`, and
`DELETE /admin/users/{id}` for platform admins (docs/identity.md)."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response, status
from fastapi.responses import StreamingResponse

from twosigma.authz.dependencies import CurrentPrincipal, PlatformAdmin
from twosigma.db.session import DbSession
from twosigma.kit.clock import Now
from twosigma.kit.deps import AppSettings, Limiter
from twosigma.kit.routing import APIRouter
from twosigma.kit.schemas import error_responses
from twosigma.kit.state import app_state
from twosigma.privacy import service
from twosigma.privacy.dependencies import ErasableAccount, OwnExport
from twosigma.privacy.schemas import EraseMe, ExportRead

router = APIRouter(tags=["privacy"], responses=error_responses(401))

_ZIP: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}}, "description": "The ZIP"}
}


@router.post(
    "/users/me/export",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ExportRead,
    summary="Ask for an export of all your data (one ZIP of JSON files, built in the background)",
)
async def request_export(principal: CurrentPrincipal, session: DbSession, now: Now) -> ExportRead:
    return await service.request_export(session, principal, now)


@router.get(
    "/users/me/exports/{export_id}",
    response_model=ExportRead,
    responses=error_responses(404, 422),
    summary="An export's status (yours only)",
)
async def get_export(export: OwnExport, now: Now) -> ExportRead:
    return service.export_read(export, now)


@router.get(
    "/users/me/exports/{export_id}/download",
    response_class=StreamingResponse,
    responses={**_ZIP, **error_responses(404, 409, 410, 422)},
    summary="Download a READY export (yours only); 410 once expired",
)
async def download_export(export: OwnExport, request: Request, now: Now) -> StreamingResponse:
    size = service.ensure_downloadable(export, now)
    return StreamingResponse(
        service.stream_archive(app_state(request).database, export.id, size),
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="twosigma-export-{export.id}.zip"',
            "Content-Length": str(size),
            "Cache-Control": "no-store",
        },
    )


@router.delete(
    "/users/me",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(409, 422, 429),
    summary="Erase your account: personal data deleted, learning records kept only anonymously",
)
async def erase_me(
    body: EraseMe,
    principal: CurrentPrincipal,
    session: DbSession,
    settings: AppSettings,
    limiter: Limiter,
    now: Now,
) -> Response:
    await service.erase_me(session, settings, limiter, principal, body, now)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete(
    "/admin/users/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    tags=["admin: users"],
    responses=error_responses(403, 404, 409, 422),
    summary="Erase someone's account (platform admins)",
)
async def erase_user(admin: PlatformAdmin, user: ErasableAccount, session: DbSession, now: Now) -> Response:
    await service.erase_by_admin(session, admin, user, now)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
