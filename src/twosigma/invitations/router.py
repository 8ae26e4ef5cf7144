"""HTTP routes for invitations: the invitee's list and answers, the university's list, revocation."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Response
from fastapi import status as http

from twosigma.authz.dependencies import CurrentPrincipal
from twosigma.db.session import DbSession
from twosigma.invitations.dependencies import AddressedInvitation, ManagedInvitation
from twosigma.invitations.schemas import (
    AcceptedInvitation,
    InvitationAcceptance,
    InvitationRead,
    InvitationState,
    MyInvitation,
)
from twosigma.invitations.services import acceptance
from twosigma.invitations.services import invitations as service
from twosigma.kit.clock import Now
from twosigma.kit.pagination import Page, Pagination
from twosigma.kit.routing import APIRouter
from twosigma.kit.schemas import error_responses
from twosigma.tenancy.dependencies import InvitingUniversity

router = APIRouter(tags=["invitations"])

_READ = error_responses(401, 403, 404, 422)
_WRITE = error_responses(401, 403, 404, 409, 422)


@router.get(
    "/users/me/invitations",
    response_model=Page[MyInvitation],
    responses=error_responses(401, 422),
    summary="Invitations addressed to the caller's email, newest first",
)
async def my_invitations(
    session: DbSession, principal: CurrentPrincipal, params: Pagination, now: Now, status: InvitationState | None = None
) -> dict[str, Any]:
    return (await service.my_invitations(session, principal, status, params, now)).as_dict()


@router.post(
    "/invitations/{invitation_id}/accept",
    response_model=AcceptedInvitation,
    responses=_WRITE,
    description="An account created at or after the invitation must send the invitation's `token` (from its link); "
    "without it, or with a wrong one, 403 `invitation_token_required`.",
)
async def accept_invitation(
    session: DbSession,
    principal: CurrentPrincipal,
    invitation: AddressedInvitation,
    now: Now,
    body: Annotated[InvitationAcceptance | None, Body()] = None,
) -> AcceptedInvitation:
    return await acceptance.accept(session, principal, invitation, now, body.token if body else None)


@router.post("/invitations/{invitation_id}/decline", response_model=MyInvitation, responses=_WRITE)
async def decline_invitation(
    session: DbSession, principal: CurrentPrincipal, invitation: AddressedInvitation, now: Now
) -> MyInvitation:
    return await service.decline(session, principal, invitation, now)


@router.get(
    "/universities/{university_id}/invitations",
    response_model=Page[InvitationRead],
    responses=_READ,
    summary="The university's invitations the caller could issue (or sent), newest first",
)
async def university_invitations(
    session: DbSession,
    principal: CurrentPrincipal,
    university: InvitingUniversity,
    params: Pagination,
    now: Now,
    status: InvitationState | None = None,
) -> dict[str, Any]:
    result = await service.university_invitations(session, principal, university.id, status, params, now)
    return result.as_dict()


@router.delete(
    "/invitations/{invitation_id}",
    status_code=http.HTTP_204_NO_CONTENT,
    responses=_WRITE,
    summary="Revoke a pending invitation",
)
async def revoke_invitation(
    session: DbSession, principal: CurrentPrincipal, invitation: ManagedInvitation, now: Now
) -> Response:
    await service.revoke(session, principal, invitation, now)
    return Response(status_code=http.HTTP_204_NO_CONTENT)
