"""HTTP routes for membership administration: role grants, the member list, suspensions, account activation."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Query, Response

from twosigma.authz.dependencies import CurrentPrincipal
from twosigma.db.session import DbSession
from twosigma.enums import UserRole
from twosigma.invitations.schemas import InvitationCreated
from twosigma.kit.clock import Now
from twosigma.kit.deps import AppSettings
from twosigma.kit.pagination import Page, Pagination
from twosigma.kit.params import IdQuery
from twosigma.kit.routing import APIRouter
from twosigma.kit.schemas import error_responses
from twosigma.tenancy.dependencies import GrantId, ManagedUniversity, SuspendingUniversity, UserId
from twosigma.tenancy.schemas import (
    MemberRead,
    RoleGrantCreate,
    RoleGrantRead,
    SuspensionCreate,
    SuspensionRead,
    UserStatusRead,
    UserStatusUpdate,
)
from twosigma.tenancy.services import members as service
from twosigma.users.models import User

router = APIRouter()

_READ = error_responses(401, 403, 404, 422)
_WRITE = error_responses(401, 403, 404, 409, 422)
_INVITED: dict[int | str, dict[str, Any]] = {
    202: {
        "model": InvitationCreated,
        "description": "Addressed by email (not a platform admin): an invitation was made, whether or not an account "
        "has that address; the grant happens when its holder accepts. Its `accept_token` and `accept_url` are shown "
        "here once.",
    }
}


@router.get("/universities/{university_id}/roles", response_model=Page[RoleGrantRead], tags=["roles"], responses=_READ)
async def list_roles(
    university: ManagedUniversity,
    session: DbSession,
    params: Pagination,
    role: UserRole | None = None,
    department_id: IdQuery = None,
) -> dict[str, Any]:
    result = await service.list_grants(session, university, params, role=role, department_id=department_id)
    return result.as_dict()


@router.post(
    "/universities/{university_id}/roles",
    response_model=RoleGrantRead | InvitationCreated,
    status_code=201,
    tags=["roles"],
    responses=_WRITE | _INVITED,
    summary="Grant a role to a member (by user_id), or invite someone (by email)",
)
async def grant_role(
    p: CurrentPrincipal,
    university: ManagedUniversity,
    session: DbSession,
    data: RoleGrantCreate,
    response: Response,
    now: Now,
    settings: AppSettings,
) -> RoleGrantRead | InvitationCreated:
    result = await service.grant_or_invite(session, p, university, data, now, settings)
    if isinstance(result, InvitationCreated):
        response.status_code = 202
    return result


@router.delete("/universities/{university_id}/roles/{grant_id}", status_code=204, tags=["roles"], responses=_WRITE)
async def revoke_role(
    p: CurrentPrincipal, university: ManagedUniversity, grant_id: GrantId, session: DbSession
) -> None:
    await service.revoke_role(session, p, university, grant_id)


@router.get("/universities/{university_id}/members", response_model=Page[MemberRead], tags=["members"], responses=_READ)
async def list_members(
    p: CurrentPrincipal,
    university: ManagedUniversity,
    session: DbSession,
    params: Pagination,
    q: Annotated[str | None, Query(max_length=255, description="Case-insensitive substring of email or name.")] = None,
    role: UserRole | None = None,
    is_active: bool | None = None,
    suspended: bool | None = None,
) -> dict[str, Any]:
    result = await service.list_members(
        session, p, university, params, q=q, role=role, is_active=is_active, suspended=suspended
    )
    return result.as_dict()


@router.post(
    "/universities/{university_id}/members/{user_id}/suspension",
    response_model=SuspensionRead,
    status_code=201,
    tags=["members"],
    responses=_WRITE,
    summary="Suspend a member here: every role and enrolment of theirs in this university stops working",
)
async def suspend_member(
    p: CurrentPrincipal,
    university: SuspendingUniversity,
    user_id: UserId,
    session: DbSession,
    data: Annotated[SuspensionCreate | None, Body()] = None,
) -> SuspensionRead:
    return await service.suspend(session, p, university, user_id, data or SuspensionCreate())


@router.delete(
    "/universities/{university_id}/members/{user_id}/suspension",
    status_code=204,
    tags=["members"],
    responses=_WRITE,
    summary="Lift a member's suspension",
)
async def reinstate_member(
    p: CurrentPrincipal, university: SuspendingUniversity, user_id: UserId, session: DbSession
) -> None:
    await service.reinstate(session, p, university, user_id)


@router.patch(
    "/users/{user_id:int}",
    response_model=UserStatusRead,
    tags=["members"],
    responses=_WRITE,
    summary="Activate or deactivate an account, platform-wide (platform admins only)",
)
async def set_user_status(p: CurrentPrincipal, user_id: UserId, session: DbSession, data: UserStatusUpdate) -> User:
    return await service.set_user_status(session, p, user_id, data)
