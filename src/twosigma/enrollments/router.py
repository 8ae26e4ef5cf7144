"""HTTP routes for enrolments: self-enrolment, staff enrolment, rosters, the caller's list, status changes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Response
from fastapi import status as http

from twosigma.authz.dependencies import CurrentPrincipal
from twosigma.courses.dependencies import EditableOffering, VisibleOffering
from twosigma.db.session import DbSession
from twosigma.enrollments import service
from twosigma.enrollments.dependencies import EditableEnrollment, RosterOffering, VisibleEnrollment
from twosigma.enrollments.models import CourseEnrollment
from twosigma.enrollments.schemas import (
    EnrollmentRead,
    EnrollmentUpdate,
    EnrollRequest,
    MyEnrollment,
    RosterEntry,
    StaffEnrollRequest,
)
from twosigma.enums import EnrollmentStatus
from twosigma.invitations.schemas import InvitationCreated
from twosigma.kit.clock import Now
from twosigma.kit.deps import AppSettings
from twosigma.kit.pagination import Page, Pagination
from twosigma.kit.routing import APIRouter
from twosigma.kit.schemas import error_responses

router = APIRouter(tags=["enrollments"])

_READ = error_responses(401, 403, 404, 422)
_WRITE = error_responses(401, 403, 404, 409, 422)


@router.post(
    "/offerings/{offering_id}/enroll",
    response_model=EnrollmentRead,
    status_code=http.HTTP_201_CREATED,
    responses=_WRITE,
)
async def enroll(
    session: DbSession,
    principal: CurrentPrincipal,
    offering: VisibleOffering,
    body: Annotated[EnrollRequest | None, Body()] = None,
) -> CourseEnrollment:
    return await service.enroll_self(session, principal, offering.id, body.invite_code if body else None)


@router.post(
    "/offerings/{offering_id}/enrollments",
    response_model=EnrollmentRead | InvitationCreated,
    status_code=http.HTTP_201_CREATED,
    responses=_WRITE
    | {
        202: {
            "model": InvitationCreated,
            "description": "Addressed by email (not a platform admin): an invitation was made, whether or not an "
            "account has that address; the enrolment happens when its holder accepts. Its `accept_token` and "
            "`accept_url` are shown here once.",
        }
    },
    summary="Enrol a member of the university (by user_id), or invite someone (by email)",
)
async def enroll_user(
    session: DbSession,
    principal: CurrentPrincipal,
    offering: EditableOffering,
    body: StaffEnrollRequest,
    response: Response,
    now: Now,
    settings: AppSettings,
) -> CourseEnrollment | InvitationCreated:
    result = await service.enrol_or_invite(session, principal, offering, body, now, settings)
    if isinstance(result, InvitationCreated):
        response.status_code = http.HTTP_202_ACCEPTED
    return result


@router.get("/offerings/{offering_id}/enrollments", response_model=Page[RosterEntry], responses=_READ)
async def roster(
    session: DbSession, offering: RosterOffering, params: Pagination, status: EnrollmentStatus | None = None
) -> dict[str, Any]:
    return (await service.roster(session, offering.id, status, params)).as_dict()


@router.get("/users/me/enrollments", response_model=Page[MyEnrollment], responses=error_responses(401, 422))
async def my_enrollments(
    session: DbSession, principal: CurrentPrincipal, params: Pagination, status: EnrollmentStatus | None = None
) -> dict[str, Any]:
    return (await service.my_enrollments(session, principal.id, status, params)).as_dict()


@router.get("/enrollments/{enrollment_id}", response_model=EnrollmentRead, responses=_READ)
async def get_enrollment(enrollment: VisibleEnrollment) -> CourseEnrollment:
    return enrollment


@router.patch("/enrollments/{enrollment_id}", response_model=EnrollmentRead, responses=_WRITE)
async def change_status(
    session: DbSession, principal: CurrentPrincipal, enrollment: VisibleEnrollment, body: EnrollmentUpdate
) -> CourseEnrollment:
    return await service.change_status(session, principal, enrollment, body.status)


@router.delete("/enrollments/{enrollment_id}", status_code=http.HTTP_204_NO_CONTENT, responses=_WRITE)
async def delete_enrollment(
    session: DbSession, principal: CurrentPrincipal, enrollment: EditableEnrollment
) -> Response:
    await service.delete_enrollment(session, principal, enrollment)
    return Response(status_code=http.HTTP_204_NO_CONTENT)
