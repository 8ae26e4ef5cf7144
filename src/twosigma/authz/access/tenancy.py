"""Universities and departments: which the caller sees, administers, or reaches for its private data."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.authz import membership, policy
from twosigma.authz.principal import Principal
from twosigma.kit.errors import not_found
from twosigma.tenancy import repository as repo
from twosigma.tenancy.models import Department, University


async def visible_university(session: AsyncSession, p: Principal | None, university_id: int) -> University:
    university = await repo.get_university(session, university_id)
    if university is None or not policy.can_view_university(p, university.id, university.is_active):
        raise not_found("University")
    return university


def administered_university(p: Principal, university: University) -> University:
    # The record is public (or already 404 for outsiders when inactive), so a refusal here is a plain 403.
    policy.ensure_allowed(policy.administers_university(p, university.id))
    return university


async def _private_university(
    session: AsyncSession, p: Principal, university_id: int, allowed: Callable[[Principal, int], bool]
) -> University:
    """Roles, members, invitations and the audit log are the university's private data: 404 for outsiders, 403 for
    members with the wrong role (or suspended there)."""
    university = await repo.get_university(session, university_id)
    if university is None:
        raise not_found("University")
    policy.ensure(allowed(p, university.id), p, university.id, resource="University")
    return university


async def managed_university(session: AsyncSession, p: Principal, university_id: int) -> University:
    """The member list and role grants."""
    return await _private_university(session, p, university_id, policy.can_manage_members)


async def suspending_university(session: AsyncSession, p: Principal, university_id: int) -> University:
    return await _private_university(session, p, university_id, membership.can_suspend_members)


async def inviting_university(session: AsyncSession, p: Principal, university_id: int) -> University:
    return await _private_university(session, p, university_id, membership.can_list_invitations)


async def audited_university(session: AsyncSession, p: Principal, university_id: int) -> University:
    return await _private_university(session, p, university_id, membership.can_read_audit)


async def sso_university(session: AsyncSession, p: Principal, university_id: int) -> University:
    """A university's single sign-on configuration and joining policy: its admins and platform admins."""
    return await _private_university(session, p, university_id, policy.administers_university)


async def visible_department(session: AsyncSession, p: Principal | None, department_id: int) -> Department:
    department = await repo.get_department(session, department_id)
    if department is not None:
        university = await repo.get_university(session, department.university_id)
        if university is not None and policy.can_view_university(p, university.id, university.is_active):
            return department
    raise not_found("Department")


def editable_department(p: Principal, department: Department) -> Department:
    policy.ensure_allowed(policy.administers_department(p, department.university_id, department.id))
    return department


def deletable_department(p: Principal, department: Department) -> Department:
    policy.ensure_allowed(policy.administers_university(p, department.university_id))
    return department


def lists_inactive_universities(p: Principal | None) -> bool:
    """The public catalog lists active universities only; platform admins see all (and may filter)."""
    return policy.is_platform_admin(p)


def ensure_may_set_university_status(p: Principal) -> None:
    """Activating or deactivating a tenant is the platform's decision, not the tenant's."""
    policy.ensure_allowed(
        policy.can_set_university_status(p), "Only a platform administrator may activate or deactivate it."
    )
