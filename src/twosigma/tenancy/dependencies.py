"""The tenancy resources a route may use: the universities and departments decided by authz
(authz/access/tenancy.py), and a country by id (public)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from twosigma.authz.access import dependencies as access
from twosigma.db.session import DbSession
from twosigma.kit.errors import not_found
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
        raise not_found("Country")
    return country


CountryById = Annotated[Country, Depends(get_country)]
VisibleUniversity = Annotated[University, Depends(access.get_visible_university)]
AdministeredUniversity = Annotated[University, Depends(access.get_administered_university)]
ManagedUniversity = Annotated[University, Depends(access.get_managed_university)]
SuspendingUniversity = Annotated[University, Depends(access.get_suspending_university)]
InvitingUniversity = Annotated[University, Depends(access.get_inviting_university)]
AuditedUniversity = Annotated[University, Depends(access.get_audited_university)]
VisibleDepartment = Annotated[Department, Depends(access.get_visible_department)]
EditableDepartment = Annotated[Department, Depends(access.get_editable_department)]
DeletableDepartment = Annotated[Department, Depends(access.get_deletable_department)]
