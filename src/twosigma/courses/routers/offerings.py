"""HTTP routes for course offerings and their invite codes."""

from __future__ import annotations

from typing import Any

from fastapi import Response, status

from twosigma.authz.dependencies import CurrentPrincipal
from twosigma.courses.dependencies import EditableCourse, EditableOffering, VisibleCourse, VisibleOffering
from twosigma.courses.schemas import OfferingCreate, OfferingRead, OfferingUpdate
from twosigma.courses.services import offerings as service
from twosigma.db.session import DbSession
from twosigma.kit.pagination import Page, Pagination
from twosigma.kit.routing import APIRouter
from twosigma.kit.schemas import error_responses

router = APIRouter(tags=["offerings"])

_READ = error_responses(401, 404, 422)
_WRITE = error_responses(401, 403, 404, 409, 422)


@router.get("/courses/{course_id}/offerings", response_model=Page[OfferingRead], responses=_READ)
async def list_offerings(
    session: DbSession, principal: CurrentPrincipal, course: VisibleCourse, params: Pagination
) -> dict[str, Any]:
    return (await service.list_offerings(session, principal, course, params)).as_dict()


@router.post(
    "/courses/{course_id}/offerings",
    response_model=OfferingRead,
    status_code=status.HTTP_201_CREATED,
    responses=_WRITE,
)
async def create_offering(
    session: DbSession, principal: CurrentPrincipal, course: EditableCourse, body: OfferingCreate
) -> OfferingRead:
    offering = await service.create_offering(session, course, body)
    return service.present(principal, offering, course)


@router.get("/offerings/{offering_id}", response_model=OfferingRead, responses=_READ)
async def get_offering(principal: CurrentPrincipal, offering: VisibleOffering) -> OfferingRead:
    return service.present(principal, offering, offering.course)


@router.patch("/offerings/{offering_id}", response_model=OfferingRead, responses=_WRITE)
async def update_offering(
    session: DbSession, principal: CurrentPrincipal, offering: EditableOffering, body: OfferingUpdate
) -> OfferingRead:
    course = offering.course  # taken before the service re-reads the row under lock
    updated = await service.update_offering(session, offering.id, body)
    return service.present(principal, updated, course)


@router.delete("/offerings/{offering_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_WRITE)
async def delete_offering(session: DbSession, offering: EditableOffering) -> Response:
    await service.delete_offering(session, offering)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/offerings/{offering_id}/invite-code", response_model=OfferingRead, responses=_WRITE)
async def regenerate_invite_code(
    session: DbSession, principal: CurrentPrincipal, offering: EditableOffering
) -> OfferingRead:
    updated = await service.regenerate_invite_code(session, offering)
    return service.present(principal, updated, offering.course)


@router.delete("/offerings/{offering_id}/invite-code", status_code=status.HTTP_204_NO_CONTENT, responses=_WRITE)
async def clear_invite_code(session: DbSession, offering: EditableOffering) -> Response:
    await service.clear_invite_code(session, offering)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
