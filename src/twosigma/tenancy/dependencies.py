"""Typed dependencies that load a tenancy resource and return it only if the caller may use it that way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends

from twosigma.authz import membership, policy
from twosigma.authz.dependencies import CurrentPrincipal, OptionalPrincipal
from twosigma.authz.principal import Principal
from twosigma.db.session import DbSession
from twosigma.kit.errors import NotFound
from twosigma.kit.params import IdPath
from twosigma.tenancy import repository as repo
from twosigma.tenancy.models import Country, Department, University

# Path ids are int4 in the database: out-of-range values are a 422, not a driver error.
CountryId = IdPath
UniversityId = IdPath
DepartmentId = IdPath
GrantId = IdPath
UserId = IdPath


async def get_country(country_id: CountryId, session: DbSession) -> Country:
    country = await repo.get_country(session, country_id)
    if country is None:
        raise NotFound("Country not found.")
    return country


async def get_visible_university(university_id: UniversityId, session: DbSession, p: OptionalPrincipal) -> University:
    university = await repo.get_university(session, university_id)
    if university is None or not policy.can_view_university(p, university.id, university.is_active):
        raise NotFound("University not found.")
    return university


async def get_administered_university(
    p: CurrentPrincipal, university: Annotated[University, Depends(get_visible_university)]
) -> University:
    # The record is public (or already 404 for outsiders when inactive), so a refusal here is a plain 403.
    policy.ensure_allowed(policy.administers_university(p, university.id))
    return university


async def _private_university(
    session: DbSession, p: Principal, university_id: int, allowed: Callable[[Principal, int], bool]
) -> University:
    """Roles, members, invitations and the audit log are the university's private data: 404 for outsiders, 403 for
    members with the wrong role (or suspended there)."""
    university = await repo.get_university(session, university_id)
    if university is None:
        raise NotFound("University not found.")
    policy.ensure(allowed(p, university.id), p, university.id, resource="University")
    return university


async def get_managed_university(p: CurrentPrincipal, university_id: UniversityId, session: DbSession) -> University:
    return await _private_university(session, p, university_id, policy.can_manage_members)


async def get_suspending_university(p: CurrentPrincipal, university_id: UniversityId, session: DbSession) -> University:
    return await _private_university(session, p, university_id, membership.can_suspend_members)


async def get_inviting_university(p: CurrentPrincipal, university_id: UniversityId, session: DbSession) -> University:
    return await _private_university(session, p, university_id, membership.can_list_invitations)


async def get_audited_university(p: CurrentPrincipal, university_id: UniversityId, session: DbSession) -> University:
    return await _private_university(session, p, university_id, membership.can_read_audit)


async def get_visible_department(department_id: DepartmentId, session: DbSession, p: OptionalPrincipal) -> Department:
    department = await repo.get_department(session, department_id)
    if department is not None:
        university = await repo.get_university(session, department.university_id)
        if university is not None and policy.can_view_university(p, university.id, university.is_active):
            return department
    raise NotFound("Department not found.")


async def get_editable_department(
    p: CurrentPrincipal, department: Annotated[Department, Depends(get_visible_department)]
) -> Department:
    policy.ensure_allowed(policy.administers_department(p, department.university_id, department.id))
    return department


async def get_deletable_department(
    p: CurrentPrincipal, department: Annotated[Department, Depends(get_visible_department)]
) -> Department:
    policy.ensure_allowed(policy.administers_university(p, department.university_id))
    return department


CountryById = Annotated[Country, Depends(get_country)]
VisibleUniversity = Annotated[University, Depends(get_visible_university)]
AdministeredUniversity = Annotated[University, Depends(get_administered_university)]
ManagedUniversity = Annotated[University, Depends(get_managed_university)]
SuspendingUniversity = Annotated[University, Depends(get_suspending_university)]
InvitingUniversity = Annotated[University, Depends(get_inviting_university)]
AuditedUniversity = Annotated[University, Depends(get_audited_university)]
VisibleDepartment = Annotated[Department, Depends(get_visible_department)]
EditableDepartment = Annotated[Department, Depends(get_editable_department)]
DeletableDepartment = Annotated[Department, Depends(get_deletable_department)]
