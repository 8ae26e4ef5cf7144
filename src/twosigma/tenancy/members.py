"""HTTP routes for membership administration: role grants, the member list, account activation."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from twosigma.authz.dependencies import CurrentPrincipal
from twosigma.db.session import DbSession
from twosigma.enums import UserRole
from twosigma.kit.pagination import Page, Pagination
from twosigma.kit.params import IdQuery
from twosigma.kit.schemas import error_responses
from twosigma.tenancy import service
from twosigma.tenancy.dependencies import GrantId, ManagedUniversity, UserId
from twosigma.tenancy.schemas import MemberRead, RoleGrantCreate, RoleGrantRead, UserStatusRead, UserStatusUpdate
from twosigma.users.models import User

router = APIRouter()

_READ = error_responses(401, 403, 404, 422)
_WRITE = error_responses(401, 403, 404, 409, 422)


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
    response_model=RoleGrantRead,
    status_code=201,
    tags=["roles"],
    responses=_WRITE,
)
async def grant_role(
    p: CurrentPrincipal, university: ManagedUniversity, session: DbSession, data: RoleGrantCreate
) -> RoleGrantRead:
    return await service.grant_role(session, p, university, data)


@router.delete("/universities/{university_id}/roles/{grant_id}", status_code=204, tags=["roles"], responses=_WRITE)
async def revoke_role(
    p: CurrentPrincipal, university: ManagedUniversity, grant_id: GrantId, session: DbSession
) -> None:
    await service.revoke_role(session, p, university, grant_id)


@router.get("/universities/{university_id}/members", response_model=Page[MemberRead], tags=["members"], responses=_READ)
async def list_members(
    university: ManagedUniversity,
    session: DbSession,
    params: Pagination,
    q: Annotated[str | None, Query(max_length=255, description="Case-insensitive substring of email or name.")] = None,
    role: UserRole | None = None,
    is_active: bool | None = None,
) -> dict[str, Any]:
    result = await service.list_members(session, university, params, q=q, role=role, is_active=is_active)
    return result.as_dict()


@router.patch("/users/{user_id:int}", response_model=UserStatusRead, tags=["members"], responses=_WRITE)
async def set_user_status(p: CurrentPrincipal, user_id: UserId, session: DbSession, data: UserStatusUpdate) -> User:
    return await service.set_user_status(session, p, user_id, data)
