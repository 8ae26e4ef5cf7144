"""Business rules for countries, universities, departments, role grants and membership administration.

Callers arrive with the resource already loaded and the coarse permission already checked (dependencies.py);
the finer rules (which roles a caller may grant, who may flip `is_active`) are decided here through authz.policy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.authz import policy
from twosigma.authz.principal import Principal
from twosigma.enums import UserRole
from twosigma.kit.errors import Conflict, Forbidden, Invalid, NotFound
from twosigma.kit.pagination import PageParams, PageResult
from twosigma.tenancy import repository as repo
from twosigma.tenancy.models import Country, Department, University, UserUniversityRole
from twosigma.tenancy.schemas import (
    CountryCreate,
    CountryUpdate,
    DepartmentCreate,
    DepartmentUpdate,
    MemberGrant,
    MemberRead,
    RoleGrantCreate,
    RoleGrantRead,
    UniversityCreate,
    UniversityUpdate,
    UserStatusUpdate,
)
from twosigma.users.models import User


async def _write(session: AsyncSession, change: Callable[[], None], conflict: Callable[[], Conflict]) -> None:
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


async def _page(session: AsyncSession, stmt: Any, params: PageParams, convert: Callable[[Any], Any]) -> PageResult[Any]:
    total = await repo.count(session, stmt)
    rows = await repo.page_rows(session, stmt, params)
    return PageResult(items=[convert(r) for r in rows], page=params.page, limit=params.limit, total=total)


# Countries


def _country_code_exists(code: str) -> Callable[[], Conflict]:
    return lambda: Conflict(f"A country with code {code} already exists.", code="country_code_exists")


async def list_countries(session: AsyncSession, q: str | None, params: PageParams) -> PageResult[Any]:
    return await _page(session, repo.countries_query(q), params, lambda row: row[0])


async def create_country(session: AsyncSession, data: CountryCreate) -> Country:
    if await repo.country_code_taken(session, data.code):
        raise _country_code_exists(data.code)()
    country = Country(code=data.code, name=data.name)
    await _write(session, lambda: session.add(country), _country_code_exists(data.code))
    return country


async def update_country(session: AsyncSession, country: Country, data: CountryUpdate) -> Country:
    changes = data.model_dump(exclude_unset=True)
    code = changes.get("code")
    if code and await repo.country_code_taken(session, code, exclude_id=country.id):
        raise _country_code_exists(code)()
    await _write(session, _setter(country, changes), _country_code_exists(code or country.code))
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
    if not policy.is_platform_admin(p):
        is_active = True
    stmt = repo.universities_query(q=q, country_id=country_id, is_active=is_active)
    return await _page(session, stmt, params, lambda row: row[0])


async def create_university(session: AsyncSession, data: UniversityCreate) -> University:
    country = await _country_for(session, data.country_id)
    if await repo.short_code_taken(session, country.id, data.short_code):
        raise _short_code_exists(data.short_code)()
    university = University(**data.model_dump())
    university.country = country
    await _write(session, lambda: session.add(university), _short_code_exists(data.short_code))
    return university


async def update_university(
    session: AsyncSession, p: Principal, university: University, data: UniversityUpdate
) -> University:
    changes = data.model_dump(exclude_unset=True)
    if "is_active" in changes and changes["is_active"] != university.is_active:
        policy.ensure_allowed(
            policy.can_set_university_status(p), "Only a platform administrator may activate or deactivate it."
        )
    country = university.country
    if "country_id" in changes and changes["country_id"] != university.country_id:
        country = await _country_for(session, changes["country_id"])
    short_code = changes.get("short_code", university.short_code)
    if ("short_code" in changes or country is not university.country) and await repo.short_code_taken(
        session, country.id, short_code, exclude_id=university.id
    ):
        raise _short_code_exists(short_code)()
    changes["country"] = country
    await _write(session, _setter(university, changes), _short_code_exists(short_code))
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
    return await _page(session, repo.departments_query(university.id, q), params, lambda row: row[0])


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
    return await _page(session, stmt, params, lambda row: _grant_read(row[0], row[1], row[2]))


async def grant_role(
    session: AsyncSession, p: Principal, university: University, data: RoleGrantCreate
) -> RoleGrantRead:
    if data.department_id is not None:
        department = await repo.get_department(session, data.department_id)
        if department is None or department.university_id != university.id:
            raise Invalid(
                "The department does not belong to this university.",
                code="department_not_in_university",
                details={"department_id": data.department_id},
            )
    if data.role not in policy.grantable_roles(p, university.id, data.department_id):
        raise Forbidden(f"You may not grant {data.role.value} here.", code="role_not_grantable")
    user = await _grantee(session, data)
    if await repo.grant_exists(session, user.id, university.id, data.role):
        raise _role_exists()
    grant = UserUniversityRole(
        user_id=user.id, university_id=university.id, role=data.role, department_id=data.department_id
    )
    await _write(session, lambda: session.add(grant), _role_exists)
    return _grant_read(grant, user.email, user.full_name)


async def _grantee(session: AsyncSession, data: RoleGrantCreate) -> User:
    if data.user_id is not None:
        user = await repo.get_user(session, data.user_id)
    else:
        assert data.email is not None  # the schema requires exactly one of the two
        user = await repo.get_user_by_email(session, data.email)
    if user is None:
        raise NotFound("User not found.", code="user_not_found")
    return user


async def revoke_role(session: AsyncSession, p: Principal, university: University, grant_id: int) -> None:
    grant = await repo.get_grant(session, university.id, grant_id)
    if grant is None:
        raise NotFound("Role grant not found.")
    if grant.role not in policy.grantable_roles(p, university.id, grant.department_id):
        raise Forbidden(f"You may not revoke {grant.role.value} here.", code="role_not_grantable")
    if grant.role is UserRole.PLATFORM_ADMIN and await repo.lock_platform_admin_grants(session) == [grant.id]:
        raise Conflict("This is the platform's last PLATFORM_ADMIN grant.", code="last_platform_admin")
    await repo.delete_row(session, grant)


# Members


def _member_read(row: Any) -> MemberRead:
    return MemberRead(
        id=row.id,
        email=row.email,
        full_name=row.full_name,
        is_active=row.is_active,
        roles=[UserRole(r) for r in row.roles],
        grants=[
            MemberGrant(id=g["id"], role=UserRole(g["role"]), department_id=g["department_id"]) for g in row.grants
        ],
    )


async def list_members(
    session: AsyncSession,
    university: University,
    params: PageParams,
    *,
    q: str | None,
    role: UserRole | None,
    is_active: bool | None,
) -> PageResult[Any]:
    stmt = repo.members_query(university.id, q=q, role=role, is_active=is_active)
    return await _page(session, stmt, params, _member_read)


async def set_user_status(session: AsyncSession, p: Principal, user_id: int, data: UserStatusUpdate) -> User:
    user = await repo.get_user(session, user_id)
    if user is None:
        raise NotFound("User not found.")
    policy.ensure_user_manageable(p, await repo.user_grants(session, user.id))
    if user.id == p.id and not data.is_active:
        raise Conflict("You cannot deactivate your own account.", code="cannot_deactivate_self")
    user.is_active = data.is_active
    await session.flush()
    if not data.is_active:
        # Access tokens stop working at once (the principal loader checks is_active); refresh tokens are spent.
        await repo.revoke_refresh_tokens(session, user.id)
    return user
