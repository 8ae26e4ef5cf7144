"""HTTP routes for countries, universities and departments (membership administration: routers/members.py, a
router of its own that app.py includes just before this one)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query

from twosigma.authz.dependencies import CurrentPrincipal, OptionalPrincipal, PlatformAdmin
from twosigma.db.session import DbSession
from twosigma.kit.pagination import Page, Pagination
from twosigma.kit.params import IdQuery
from twosigma.kit.routing import APIRouter
from twosigma.kit.schemas import error_responses
from twosigma.tenancy.dependencies import (
    AdministeredUniversity,
    CountryById,
    DeletableDepartment,
    EditableDepartment,
    VisibleDepartment,
    VisibleUniversity,
)
from twosigma.tenancy.models import Country, Department, University
from twosigma.tenancy.schemas import (
    CountryCreate,
    CountryRead,
    CountryUpdate,
    DepartmentCreate,
    DepartmentRead,
    DepartmentUpdate,
    UniversityCreate,
    UniversityRead,
    UniversityUpdate,
)
from twosigma.tenancy.services import universities as service

router = APIRouter()

Search = Annotated[str | None, Query(max_length=100, description="Case-insensitive substring of name or code.")]
OptionalId = IdQuery

_ADMIN_WRITE = error_responses(401, 403, 404, 409, 422)


# Countries


@router.get("/countries", response_model=Page[CountryRead], tags=["countries"], responses=error_responses(422))
async def list_countries(session: DbSession, params: Pagination, q: Search = None) -> dict[str, Any]:
    return (await service.list_countries(session, q, params)).as_dict()


@router.get("/countries/{country_id}", response_model=CountryRead, tags=["countries"], responses=error_responses(404))
async def get_country(country: CountryById) -> Country:
    return country


@router.post("/countries", response_model=CountryRead, status_code=201, tags=["countries"], responses=_ADMIN_WRITE)
async def create_country(_: PlatformAdmin, session: DbSession, data: CountryCreate) -> Country:
    return await service.create_country(session, data)


@router.patch("/countries/{country_id}", response_model=CountryRead, tags=["countries"], responses=_ADMIN_WRITE)
async def update_country(_: PlatformAdmin, country: CountryById, session: DbSession, data: CountryUpdate) -> Country:
    return await service.update_country(session, country, data)


@router.delete("/countries/{country_id}", status_code=204, tags=["countries"], responses=_ADMIN_WRITE)
async def delete_country(_: PlatformAdmin, country: CountryById, session: DbSession) -> None:
    await service.delete_country(session, country)


# Universities


@router.get(
    "/universities", response_model=Page[UniversityRead], tags=["universities"], responses=error_responses(401, 422)
)
async def list_universities(
    session: DbSession,
    p: OptionalPrincipal,
    params: Pagination,
    q: Search = None,
    country_id: OptionalId = None,
    is_active: Annotated[bool | None, Query(description="Platform administrators only; others see active.")] = None,
) -> dict[str, Any]:
    result = await service.list_universities(session, p, params, q=q, country_id=country_id, is_active=is_active)
    return result.as_dict()


@router.get(
    "/universities/{university_id}",
    response_model=UniversityRead,
    tags=["universities"],
    responses=error_responses(401, 404, 422),
)
async def get_university(university: VisibleUniversity) -> University:
    return university


@router.post(
    "/universities", response_model=UniversityRead, status_code=201, tags=["universities"], responses=_ADMIN_WRITE
)
async def create_university(_: PlatformAdmin, session: DbSession, data: UniversityCreate) -> University:
    return await service.create_university(session, data)


@router.patch(
    "/universities/{university_id}", response_model=UniversityRead, tags=["universities"], responses=_ADMIN_WRITE
)
async def update_university(
    p: CurrentPrincipal, university: AdministeredUniversity, session: DbSession, data: UniversityUpdate
) -> University:
    return await service.update_university(session, p, university, data)


@router.delete("/universities/{university_id}", status_code=204, tags=["universities"], responses=_ADMIN_WRITE)
async def delete_university(_: PlatformAdmin, university: VisibleUniversity, session: DbSession) -> None:
    await service.delete_university(session, university)


# Departments


@router.get(
    "/universities/{university_id}/departments",
    response_model=Page[DepartmentRead],
    tags=["departments"],
    responses=error_responses(401, 404, 422),
)
async def list_departments(
    university: VisibleUniversity, session: DbSession, params: Pagination, q: Search = None
) -> dict[str, Any]:
    return (await service.list_departments(session, university, q, params)).as_dict()


@router.post(
    "/universities/{university_id}/departments",
    response_model=DepartmentRead,
    status_code=201,
    tags=["departments"],
    responses=_ADMIN_WRITE,
)
async def create_department(
    university: AdministeredUniversity, session: DbSession, data: DepartmentCreate
) -> Department:
    return await service.create_department(session, university, data)


@router.get(
    "/departments/{department_id}",
    response_model=DepartmentRead,
    tags=["departments"],
    responses=error_responses(401, 404, 422),
)
async def get_department(department: VisibleDepartment) -> Department:
    return department


@router.patch(
    "/departments/{department_id}", response_model=DepartmentRead, tags=["departments"], responses=_ADMIN_WRITE
)
async def update_department(department: EditableDepartment, session: DbSession, data: DepartmentUpdate) -> Department:
    return await service.update_department(session, department, data)


@router.delete("/departments/{department_id}", status_code=204, tags=["departments"], responses=_ADMIN_WRITE)
async def delete_department(department: DeletableDepartment, session: DbSession) -> None:
    await service.delete_department(session, department)
