"""HTTP routes for assessments: a student's attempts at a quiz, and the offering's gradebook for its staff."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, status
from fastapi.responses import StreamingResponse

from twosigma.assessments import gradebook, service
from twosigma.assessments.dependencies import AttemptingItem, GradebookItem, GradebookOffering, ReviewingItem
from twosigma.assessments.schemas import (
    AttemptCreate,
    AttemptRead,
    AttemptSubmitted,
    Gradebook,
    GradebookFormat,
    GradebookSort,
    ItemStats,
)
from twosigma.authz.dependencies import CurrentPrincipal
from twosigma.db.session import DbSession
from twosigma.kit.clock import Now
from twosigma.kit.pagination import Page, Pagination
from twosigma.kit.routing import APIRouter
from twosigma.kit.schemas import error_responses

router = APIRouter(tags=["assessments"])

_ATTEMPTS = "/offerings/{offering_id}/content-items/{content_item_id}/attempts"


@router.post(
    _ATTEMPTS,
    response_model=AttemptSubmitted,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 403, 404, 409, 422),
)
async def submit_attempt(
    session: DbSession, principal: CurrentPrincipal, target: AttemptingItem, body: AttemptCreate, now: Now
) -> AttemptSubmitted:
    """Submit answers to a quiz (an ACTIVE student of the offering): graded on the server, stored, and the item's
    progress follows the grade. 409 `not_gradable`, `quiz_invalid`, `attempts_exhausted`; 422 for an unknown
    question or a wrongly typed answer. Per-question results are shown as the quiz's `show_feedback` releases them
    (docs/assessments.md)."""
    return await service.submit_attempt(session, principal, target, body, now)


@router.get(_ATTEMPTS, response_model=Page[AttemptRead], responses=error_responses(401, 403, 404, 422))
async def list_my_attempts(
    session: DbSession, principal: CurrentPrincipal, target: ReviewingItem, params: Pagination
) -> Page[AttemptRead]:
    """The caller's own attempts at the item, by attempt number."""
    return await service.my_attempts(session, principal, target, params)


_CSV = {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "The gradebook: JSON, or CSV."}


@router.get(
    "/offerings/{offering_id}/gradebook",
    response_model=Gradebook,
    responses={200: _CSV, **error_responses(401, 403, 404, 422)},
)
async def get_gradebook(
    session: DbSession,
    offering: GradebookOffering,
    params: Pagination,
    sort: GradebookSort = GradebookSort.NAME,
    format: Annotated[
        GradebookFormat, Query(description="csv: every student (no page), as a UTF-8 CSV with a header row.")
    ] = GradebookFormat.JSON,
) -> Any:
    """One row per student (ACTIVE and COMPLETED enrolments) with each quiz's best score, attempts used and pass,
    and the course progress; for the staff who read the offering's progress."""
    if format is GradebookFormat.CSV:
        table = await gradebook.gradebook_table(session, offering, sort)
        filename = f"gradebook-offering-{offering.id}.csv"
        return StreamingResponse(
            (line.encode() for line in gradebook.csv_lines(table)),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    return await gradebook.gradebook_page(session, offering, sort, params)


@router.get(
    "/offerings/{offering_id}/gradebook/items/{content_item_id}",
    response_model=ItemStats,
    responses=error_responses(401, 403, 404, 409, 422),
)
async def get_item_stats(session: DbSession, target: GradebookItem) -> ItemStats:
    """One quiz's attempts in the offering: attempts, students, pass rate, mean scores, and per question the share
    answering correctly."""
    return await gradebook.item_stats(session, target)
