"""Membership administration: role grants (direct, or an invitation by email), revocation, the member list,
suspensions and account status. Every change is written to the audit log in the same transaction.

Who may address whom (authz/membership.py): a user id is accepted only for members of the university (platform
admins: anyone); an email from anyone but a platform admin always makes an invitation, whether or not an account
has that address, so the answer (202 and the invitation) never depends on it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.audit import service as audit
from twosigma.audit.models import AuditAction
from twosigma.auth import service as auth
from twosigma.authz import addressing, membership
from twosigma.authz.principal import Principal
from twosigma.config import Settings
from twosigma.enums import UserRole
from twosigma.invitations.schemas import InvitationCreated
from twosigma.invitations.services import invitations
from twosigma.kit.errors import Conflict, Forbidden, Invalid, NotFound, not_found
from twosigma.kit.pagination import PageParams, PageResult
from twosigma.tenancy import repository as repo
from twosigma.tenancy.models import MemberSuspension, University, UserUniversityRole
from twosigma.tenancy.schemas import (
    MemberGrant,
    MemberRead,
    MemberSuspensionInfo,
    RoleGrantCreate,
    RoleGrantRead,
    SuspensionCreate,
    SuspensionRead,
    UserStatusUpdate,
)
from twosigma.tenancy.services.universities import page_of, write_or_conflict
from twosigma.users import service as users
from twosigma.users.models import User

# Role grants


def _role_exists() -> Conflict:
    return Conflict("The user already holds this role in this university.", code="role_exists")


def _grant_read(grant: UserUniversityRole, email: str, full_name: str) -> RoleGrantRead:
    return RoleGrantRead(
        id=grant.id,
        user_id=grant.user_id,
        university_id=grant.university_id,
        role=grant.role,
        department_id=grant.department_id,
        user_email=email,
        user_full_name=full_name,
    )


async def list_grants(
    session: AsyncSession,
    university: University,
    params: PageParams,
    *,
    role: UserRole | None,
    department_id: int | None,
) -> PageResult[Any]:
    stmt = repo.grants_query(university.id, role=role, department_id=department_id)
    return await page_of(
        session, stmt, params, lambda row: _grant_read(row.UserUniversityRole, row.email, row.full_name)
    )


async def _ensure_may_grant(
    session: AsyncSession, p: Principal, university_id: int, role: UserRole, department_id: int | None
) -> None:
    """Before anything about the user is looked at, so those who may not grant cannot probe accounts either."""
    if department_id is not None:
        department = await repo.get_department(session, department_id)
        if department is None or department.university_id != university_id:
            raise Invalid(
                "The department does not belong to this university.",
                code="department_not_in_university",
                details={"department_id": department_id},
            )
    if not membership.can_invite_to_role(p, university_id, role, department_id):
        raise Forbidden(f"You may not grant {role.value} here.", code="role_not_grantable")


async def grant_or_invite(
    session: AsyncSession,
    p: Principal,
    university: University,
    data: RoleGrantCreate,
    now: datetime,
    settings: Settings,
) -> RoleGrantRead | InvitationCreated:
    await _ensure_may_grant(session, p, university.id, data.role, data.department_id)
    user = await addressing.addressee(session, p, university.id, user_id=data.user_id, email=data.email)
    if user is None:
        assert data.email is not None
        issued = await invitations.invite_to_role(
            session, p, university.id, data.email, data.role, data.department_id, now
        )
        await invitations.mail_invitation(session, settings, p, issued)
        return invitations.created_view(issued, now, settings)
    return await grant(session, p, university.id, user, data.role, data.department_id)


async def grant(
    session: AsyncSession,
    authority: Principal,
    university_id: int,
    user: User,
    role: UserRole,
    department_id: int | None,
    *,
    via_invitation: int | None = None,
) -> RoleGrantRead:
    """Make the grant on `authority`'s right (already checked): the caller's, or an accepted invitation's inviter."""
    if await repo.grant_exists(session, user.id, university_id, role):
        raise _role_exists()
    row = UserUniversityRole(user_id=user.id, university_id=university_id, role=role, department_id=department_id)
    await write_or_conflict(session, lambda: session.add(row), _role_exists)
    details: dict[str, Any] = {"role": role.value, "department_id": department_id}
    if via_invitation is not None:
        details["invitation_id"] = via_invitation
    await audit.record(
        session,
        AuditAction.ROLE_GRANTED,
        actor=authority,
        university_id=university_id,
        target_user_id=user.id,
        target_email=user.email,
        resource=("grant", row.id),
        details=details,
    )
    return _grant_read(row, user.email, user.full_name)


async def revoke_role(session: AsyncSession, p: Principal, university: University, grant_id: int) -> None:
    row = await repo.get_grant(session, university.id, grant_id)
    if row is None:
        raise not_found("Role grant")
    if not membership.can_invite_to_role(p, university.id, row.role, row.department_id):
        raise Forbidden(f"You may not revoke {row.role.value} here.", code="role_not_grantable")
    if row.role is UserRole.PLATFORM_ADMIN and await repo.lock_platform_admin_grants(session) == [row.id]:
        raise Conflict("This is the platform's last PLATFORM_ADMIN grant.", code="last_platform_admin")
    user = await repo.get_user(session, row.user_id)
    await repo.delete_row(session, row)
    await audit.record(
        session,
        AuditAction.ROLE_REVOKED,
        actor=p,
        university_id=university.id,
        target_user_id=row.user_id,
        target_email=user.email if user is not None else None,
        resource=("grant", row.id),
        details={"role": row.role.value, "department_id": row.department_id},
    )


# Members


def _member_read(row: Any) -> MemberRead:
    suspension = None
    if row.suspended_at is not None:  # selected only for those who may read it (repository.members_query)
        suspension = MemberSuspensionInfo(
            suspended_at=row.suspended_at, suspended_by_id=row.suspended_by_id, reason=row.suspension_reason
        )
    return MemberRead(
        id=row.id,
        email=row.email,
        full_name=row.full_name,
        is_active=row.is_active,
        roles=[UserRole(r) for r in row.roles],
        grants=[
            MemberGrant(id=g["id"], role=UserRole(g["role"]), department_id=g["department_id"]) for g in row.grants
        ],
        suspended=row.suspended,
        suspension=suspension,
    )


async def list_members(
    session: AsyncSession,
    p: Principal,
    university: University,
    params: PageParams,
    *,
    q: str | None,
    role: UserRole | None,
    is_active: bool | None,
    suspended: bool | None,
) -> PageResult[Any]:
    """Everyone who sees the list sees whether a member is suspended (and may filter on it: it tells them nothing
    more); the suspension's reason and author only those who may suspend (authz.membership)."""
    details = membership.can_read_suspension_details(p, university.id)
    stmt = repo.members_query(
        university.id, q=q, role=role, is_active=is_active, suspended=suspended, suspension_details=details
    )
    return await page_of(session, stmt, params, _member_read)


# Suspensions


def _already_suspended() -> Conflict:
    return Conflict("The member is already suspended in this university.", code="already_suspended")


async def suspend(
    session: AsyncSession, p: Principal, university: University, user_id: int, data: SuspensionCreate
) -> SuspensionRead:
    """Every role and enrolment of the member in this university stops working (the principal loader leaves them
    out) until the suspension is lifted; their account, and their standing in other universities, are untouched."""
    user = await addressing.member_of(session, university.id, user_id)
    grants = await repo.user_grants(session, user.id)
    membership.ensure_suspendable(p, user.id, any(g.role is UserRole.PLATFORM_ADMIN for g in grants))
    if await repo.get_suspension(session, user.id, university.id) is not None:
        raise _already_suspended()
    row = MemberSuspension(user_id=user.id, university_id=university.id, suspended_by_id=p.id, reason=data.reason)
    await write_or_conflict(session, lambda: session.add(row), _already_suspended)
    await session.refresh(row)  # created_at is the database's
    await audit.record(
        session,
        AuditAction.MEMBER_SUSPENDED,
        actor=p,
        university_id=university.id,
        target_user_id=user.id,
        target_email=user.email,
        resource=("suspension", row.id),
        details={"reason": data.reason},
    )
    return SuspensionRead.model_validate(row)


async def reinstate(session: AsyncSession, p: Principal, university: University, user_id: int) -> None:
    user = await addressing.member_of(session, university.id, user_id)
    row = await repo.get_suspension(session, user.id, university.id)
    if row is None:
        raise NotFound("The member is not suspended in this university.", code="suspension_not_found")
    await repo.delete_row(session, row)
    await audit.record(
        session,
        AuditAction.MEMBER_REINSTATED,
        actor=p,
        university_id=university.id,
        target_user_id=user.id,
        target_email=user.email,
        resource=("suspension", row.id),
        details={"suspended_at": row.created_at.isoformat(), "reason": row.reason},
    )


# Account status (platform admins only)


async def set_user_status(session: AsyncSession, p: Principal, user_id: int, data: UserStatusUpdate) -> User:
    user = await addressing.account_for_status_change(session, p, user_id)
    if user.id == p.id and not data.is_active:
        raise Conflict("You cannot deactivate your own account.", code="cannot_deactivate_self")
    changed = await users.set_active(session, user, data.is_active)
    if not data.is_active:
        # Access tokens stop working at once (the principal loader checks is_active); refresh tokens are spent.
        await auth.revoke_all_of_user(session, user.id)
    if changed:
        action = AuditAction.ACCOUNT_REACTIVATED if data.is_active else AuditAction.ACCOUNT_DEACTIVATED
        await audit.record(
            session, action, actor=p, university_id=None, target_user_id=user.id, target_email=user.email
        )
    return user


# Erasure (privacy/service.py orchestrates)


async def ensure_not_last_platform_admin(session: AsyncSession, user_id: int) -> None:
    """409 when erasing `user_id` would leave the platform without a PLATFORM_ADMIN grant."""
    own = await repo.platform_admin_grant_ids_of(session, user_id)
    if own and set(await repo.lock_platform_admin_grants(session)) <= set(own):
        raise Conflict(
            "This is the platform's last PLATFORM_ADMIN; grant the role to someone else first.",
            code="last_platform_admin",
        )


async def erase_user(session: AsyncSession, user_id: int) -> None:
    """An account being erased: its role grants and suspensions go (its enrolments stay, anonymous, with the
    enrolments domain; the audit log keeps what was done)."""
    await repo.delete_memberships_of(session, user_id)
