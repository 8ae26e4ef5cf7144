"""/admin/outbox: what was sent, or would have been (platform admins; bodies shown with tokens redacted)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query

from twosigma.authz.dependencies import PlatformAdmin
from twosigma.db.session import DbSession
from twosigma.kit.pagination import Page, Pagination
from twosigma.kit.routing import APIRouter
from twosigma.kit.schemas import error_responses
from twosigma.mail import service
from twosigma.mail.schemas import MailStatus, OutboxItem

router = APIRouter(prefix="/admin/outbox", tags=["admin: mail"], responses=error_responses(401, 403))


@router.get(
    "",
    response_model=Page[OutboxItem],
    responses=error_responses(422),
    summary="The mail outbox, newest first (tokens in bodies redacted)",
)
async def list_outbox(
    admin: PlatformAdmin,
    session: DbSession,
    params: Pagination,
    status: Annotated[MailStatus | None, Query(description="Only messages in this status.")] = None,
) -> dict[str, Any]:
    return (await service.list_outbox(session, params, status)).as_dict()
