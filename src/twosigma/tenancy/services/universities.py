"""Business rules for countries, universities and departments (membership administration: services/members.py).

Callers arrive with the resource already loaded and the coarse permission already checked (authz's loaders);
the finer rules are asked of authz's named decisions (authz/access/tenancy.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.authz.access.tenancy import ensure_may_set_university_status, lists_inactive_universities
from twosigma.authz.principal import Principal
from twosigma.enums import UserRole
from twosigma.kit.errors import Conflict, Invalid
from twosigma.kit.pagination import PageParams, PageResult
from twosigma.tenancy import repository as repo
from twosigma.tenancy.models import Country, Department, University, UserUniversityRole
from twosigma.tenancy.schemas import (
    CountryCreate,
    CountryUpdate,
    DepartmentCreate,
    DepartmentUpdate,
    UniversityCreate,
    UniversityUpdate,
)


async def write_or_conflict(
    session: AsyncSession, change: Callable[[], None], conflict: Callable[[], Conflict]
) -> None:
    """Apply `change` and flush inside a SAVEPOINT, so a unique violation that slipped past the pre-checks
    (a concurrent writer) becomes a 409 instead of a 500."""
    try:
        async with session.begin_nested():
            change()
            await session.flush()
    except IntegrityError as exc:
        raise conflict() from exc


def _setter(obj: object, changes: dict[str, Any]) -> Callable[[], None]:
    def apply() -> None:
        for name, value in changes.items():
            setattr(obj, name, value)

    return apply


async def page_of(
    session: AsyncSession, stmt: Any, params: PageParams, convert: Callable[[Any], Any]
) -> PageResult[Any]:
    total = await repo.count(session, stmt)
    rows = await repo.page_rows(session, stmt, params)
    return PageResult(items=[convert(r) for r in rows], page=params.page, limit=params.limit, total=total)


# Countries


def _country_code_exists(code: str) -> Callable[[], Conflict]:
    return lambda: Conflict(f"A country with code {code} already exists.", code="country_code_exists")


async def list_countries(session: AsyncSession, q: str | None, params: PageParams) -> PageResult[Any]:
    return await page_of(session, repo.countries_query(q), params, lambda row: row.Country)


async def create_country(session: AsyncSession, data: CountryCreate) -> Country:
    if await repo.country_code_taken(session, data.code):
        raise _country_code_exists(data.code)()
    country = Country(code=data.code, name=data.name)
    await write_or_conflict(session, lambda: session.add(country), _country_code_exists(data.code))
    return country


async def update_country(session: AsyncSession, country: Country, data: CountryUpdate) -> Country:
    changes = data.model_dump(exclude_unset=True)
    code = changes.get("code")
    if code and await repo.country_code_taken(session, code, exclude_id=country.id):
        raise _country_code_exists(code)()
    await write_or_conflict(session, _setter(country, changes), _country_code_exists(code or country.code))
    return country


async def delete_country(session: AsyncSession, country: Country) -> None:
    def in_use() -> Conflict:
        return Conflict("Universities still belong to this country.", code="country_in_use")

    if await repo.country_has_universities(session, country.id):
        raise in_use()
    try:
        async with session.begin_nested():
            await repo.delete_row(session, country)
    except IntegrityError as exc:  # a university was added concurrently (FK is RESTRICT)
        raise in_use() from exc


# Universities


def _short_code_exists(short_code: str) -> Callable[[], Conflict]:
    return lambda: Conflict(
        f"A university with short code {short_code} already exists in this country.", code="short_code_exists"
    )


async def _country_for(session: AsyncSession, country_id: int) -> Country:
    country = await repo.get_country(session, country_id)
    if country is None:
        raise Invalid("The country does not exist.", code="unknown_country", details={"country_id": country_id})
    return country


async def list_universities(
    session: AsyncSession,
    p: Principal | None,
    params: PageParams,
    *,
    q: str | None,
    country_id: int | None,
    is_active: bool | None,
) -> PageResult[Any]:
    # The public catalog lists active universities only; platform admins see all (and may filter).
    if not lists_inactive_universities(p):
        is_active = True
    stmt = repo.universities_query(q=q, country_id=country_id, is_active=is_active)
    return await page_of(session, stmt, params, lambda row: row.University)


async def create_university(session: AsyncSession, data: UniversityCreate) -> University:
    country = await _country_for(session, data.country_id)
    if await repo.short_code_taken(session, country.id, data.short_code):
        raise _short_code_exists(data.short_code)()
    university = University(**data.model_dump())
    university.country = country
    await write_or_conflict(session, lambda: session.add(university), _short_code_exists(data.short_code))
    return university


async def update_university(
    session: AsyncSession, p: Principal, university: University, data: UniversityUpdate
) -> University:
    changes = data.model_dump(exclude_unset=True)
    if "is_active" in changes and changes["is_active"] != university.is_active:
        ensure_may_set_university_status(p)
    country = university.country
    if "country_id" in changes and changes["country_id"] != university.country_id:
        country = await _country_for(session, changes["country_id"])
    short_code = changes.get("short_code", university.short_code)
    if ("short_code" in changes or country is not university.country) and await repo.short_code_taken(
        session, country.id, short_code, exclude_id=university.id
    ):
        raise _short_code_exists(short_code)()
    changes["country"] = country
    await write_or_conflict(session, _setter(university, changes), _short_code_exists(short_code))
    return university


async def delete_university(session: AsyncSession, university: University) -> None:
    # Departments, grants, courses and everything under them go with it (ON DELETE CASCADE).
    await repo.delete_row(session, university)


# Departments


def _department_code_exists(code: str) -> Conflict:
    return Conflict(f"A department with code {code} already exists here.", code="department_code_exists")


async def list_departments(
    session: AsyncSession, university: University, q: str | None, params: PageParams
) -> PageResult[Any]:
    return await page_of(session, repo.departments_query(university.id, q), params, lambda row: row.Department)


async def create_department(session: AsyncSession, university: University, data: DepartmentCreate) -> Department:
    if data.code and await repo.department_code_taken(session, university.id, data.code):
        raise _department_code_exists(data.code)
    department = Department(university_id=university.id, name=data.name, code=data.code)
    session.add(department)
    await session.flush()
    return department


async def update_department(session: AsyncSession, department: Department, data: DepartmentUpdate) -> Department:
    changes = data.model_dump(exclude_unset=True)
    code = changes.get("code")
    if code and await repo.department_code_taken(session, department.university_id, code, exclude_id=department.id):
        raise _department_code_exists(code)
    _setter(department, changes)()
    await session.flush()
    return department


async def delete_department(session: AsyncSession, department: Department) -> None:
    # Courses keep existing without a department (SET NULL); grants scoped to it are removed (CASCADE).
    await repo.delete_row(session, department)


async def ensure_student_role(session: AsyncSession, user_id: int, university_id: int) -> None:
    """An enrolment makes its user a member: STUDENT in the university, unless they already hold a role there."""
    await repo.ensure_student_role(session, user_id, university_id)


async def ensure_role(
    session: AsyncSession, user_id: int, university_id: int, role: UserRole, department_id: int | None = None
) -> None:
    """A role asserted by the university's own LMS (lti/): granted in `department_id` (None: university-wide) unless
    the role is already held in the university (a held grant is never widened nor moved). Never PLATFORM_ADMIN: an
    LMS speaks for its university only."""
    if role is UserRole.PLATFORM_ADMIN:
        raise ValueError("PLATFORM_ADMIN is never granted from outside")
    await repo.ensure_role(session, user_id, university_id, role, department_id)


# The tenant that holds PLATFORM_ADMIN roles no university was named for (`twosigma admin create`): country "ZZ"
# ("Platform", a user-assigned ISO code) and university "PLATFORM". Nothing else creates tenants behind the API's back.
PLATFORM_COUNTRY_CODE = "ZZ"
PLATFORM_COUNTRY_NAME = "Platform"
PLATFORM_UNIVERSITY_CODE = "PLATFORM"
PLATFORM_UNIVERSITY_NAME = "Platform administration"


async def platform_university(session: AsyncSession) -> University:
    """The platform's own university, created (with its country) on first use."""
    country = (await session.scalars(select(Country).where(Country.code == PLATFORM_COUNTRY_CODE))).first()
    if country is None:
        country = Country(code=PLATFORM_COUNTRY_CODE, name=PLATFORM_COUNTRY_NAME)
        session.add(country)
        await session.flush()
    university = (
        await session.scalars(
            select(University).where(
                University.country_id == country.id, University.short_code == PLATFORM_UNIVERSITY_CODE
            )
        )
    ).first()
    if university is None:
        university = University(
            name=PLATFORM_UNIVERSITY_NAME, short_code=PLATFORM_UNIVERSITY_CODE, country_id=country.id
        )
        session.add(university)
        await session.flush()
    return university


async def grant_platform_admin(session: AsyncSession, user_id: int, university_id: int) -> bool:
    """Hold PLATFORM_ADMIN through `university_id`; False when the user already did (nothing is written)."""
    existing = await session.scalar(
        select(UserUniversityRole.id).where(
            UserUniversityRole.user_id == user_id,
            UserUniversityRole.university_id == university_id,
            UserUniversityRole.role == UserRole.PLATFORM_ADMIN,
        )
    )
    if existing is not None:
        return False
    session.add(UserUniversityRole(user_id=user_id, university_id=university_id, role=UserRole.PLATFORM_ADMIN))
    await session.flush()
    return True
