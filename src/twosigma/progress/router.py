"""HTTP routes for progress: the caller's writes and tree, and the staff overview of an offering."""

from __future__ import annotations

from twosigma.authz.dependencies import CurrentPrincipal
from twosigma.db.session import DbSession
from twosigma.kit.clock import Now
from twosigma.kit.pagination import Pagination
from twosigma.kit.params import IdPath
from twosigma.kit.routing import APIRouter
from twosigma.kit.schemas import error_responses
from twosigma.progress import service
from twosigma.progress.dependencies import ReadingParticipation, StaffOffering, WritingParticipation
from twosigma.progress.schemas import MyProgress, OfferingProgress, ProgressUpdate, ProgressWriteResult

router = APIRouter(tags=["progress"])


@router.put(
    "/offerings/{offering_id}/progress/content-items/{content_item_id}",
    response_model=ProgressWriteResult,
    responses=error_responses(401, 403, 404, 409, 422),
)
async def put_content_progress(
    session: DbSession,
    principal: CurrentPrincipal,
    part: WritingParticipation,
    content_item_id: IdPath,
    body: ProgressUpdate,
    now: Now,
) -> ProgressWriteResult:
    """Record the caller's progress on an item. An item of a gradable type answers 409 `graded_item`: its progress
    follows its quiz attempts (docs/assessments.md)."""
    return await service.record_progress(session, principal, part, content_item_id, body, now)


@router.get(
    "/offerings/{offering_id}/progress/me", response_model=MyProgress, responses=error_responses(401, 403, 404, 422)
)
async def get_my_progress(session: DbSession, principal: CurrentPrincipal, part: ReadingParticipation) -> MyProgress:
    return await service.my_progress(session, principal, part)


@router.get(
    "/offerings/{offering_id}/progress",
    response_model=OfferingProgress,
    responses=error_responses(401, 403, 404, 422),
)
async def get_offering_progress(session: DbSession, offering: StaffOffering, params: Pagination) -> OfferingProgress:
    return await service.offering_progress(session, offering, params)
