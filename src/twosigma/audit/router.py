"""GET /universities/{id}/audit: the university's audit log, newest first."""

from __future__ import annotations

from typing import Any

from twosigma.audit import service
from twosigma.audit.models import AuditAction
from twosigma.audit.schemas import AuditEventRead
from twosigma.db.session import DbSession
from twosigma.kit.pagination import Page, Pagination
from twosigma.kit.routing import APIRouter
from twosigma.kit.schemas import error_responses
from twosigma.tenancy.dependencies import AuditedUniversity

router = APIRouter(tags=["audit"])


@router.get(
    "/universities/{university_id}/audit",
    response_model=Page[AuditEventRead],
    responses=error_responses(401, 403, 404, 422),
    summary="The university's audit log (grants, revocations, suspensions, invitations, staff enrolments)",
)
async def university_audit(
    university: AuditedUniversity, session: DbSession, params: Pagination, action: AuditAction | None = None
) -> dict[str, Any]:
    return (await service.university_log(session, university.id, action, params)).as_dict()
