"""Every query of the tenancy domain."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    String,
    and_,
    cast,
    delete,
    exists,
    func,
    null,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from twosigma.authz.principal import Grant
from twosigma.authz.repository import member_ids_of
from twosigma.enums import UserRole
from twosigma.kit.pagination import PageParams
from twosigma.tenancy.models import Country, Department, MemberSuspension, University, UserUniversityRole
from twosigma.users.models import User

AnySelect = Select[*tuple[Any, ...]]


def contains_pattern(text: str) -> str:
    r"""An ILIKE pattern matching `text` anywhere, with LIKE's wildcards escaped (escape character: \)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def count(session: AsyncSession, stmt: AnySelect) -> int:
    total = await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    return int(total or 0)


async def page_rows(session: AsyncSession, stmt: AnySelect, params: PageParams) -> Sequence[Row[Any]]:
    return (await session.execute(stmt.limit(params.limit).offset(params.offset))).all()


# Countries


def countries_query(q: str | None) -> Select[Country]:
    stmt = select(Country).order_by(Country.name, Country.id)
    if q:
        pattern = contains_pattern(q)
        stmt = stmt.where(or_(Country.name.ilike(pattern, escape="\\"), Country.code.ilike(pattern, escape="\\")))
    return stmt


async def get_country(session: AsyncSession, country_id: int) -> Country | None:
    return await session.get(Country, country_id)


async def country_code_taken(session: AsyncSession, code: str, *, exclude_id: int | None = None) -> bool:
    stmt = select(exists().where(Country.code == code, Country.id != (exclude_id or 0)))
    return bool(await session.scalar(stmt))


async def country_has_universities(session: AsyncSession, country_id: int) -> bool:
    return bool(await session.scalar(select(exists().where(University.country_id == country_id))))


# Universities


def universities_query(*, q: str | None, country_id: int | None, is_active: bool | None) -> Select[University]:
    stmt = select(University).options(joinedload(University.country)).order_by(University.name, University.id)
    if q:
        pattern = contains_pattern(q)
        stmt = stmt.where(
            or_(University.name.ilike(pattern, escape="\\"), University.short_code.ilike(pattern, escape="\\"))
        )
    if country_id is not None:
        stmt = stmt.where(University.country_id == country_id)
    if is_active is not None:
        stmt = stmt.where(University.is_active.is_(is_active))
    return stmt


async def get_university(session: AsyncSession, university_id: int) -> University | None:
    stmt = select(University).options(joinedload(University.country)).where(University.id == university_id)
    return (await session.scalars(stmt)).one_or_none()


async def short_code_taken(
    session: AsyncSession, country_id: int, short_code: str, *, exclude_id: int | None = None
) -> bool:
    """Case-insensitive: 'MIT' and 'mit' in one country would confuse everyone."""
    stmt = select(
        exists().where(
            University.country_id == country_id,
            func.lower(University.short_code) == short_code.lower(),
            University.id != (exclude_id or 0),
        )
    )
    return bool(await session.scalar(stmt))


# Departments


def departments_query(university_id: int, q: str | None) -> Select[Department]:
    stmt = select(Department).where(Department.university_id == university_id).order_by(Department.name, Department.id)
    if q:
        pattern = contains_pattern(q)
        stmt = stmt.where(or_(Department.name.ilike(pattern, escape="\\"), Department.code.ilike(pattern, escape="\\")))
    return stmt


async def get_department(session: AsyncSession, department_id: int) -> Department | None:
    return await session.get(Department, department_id)


async def department_code_taken(
    session: AsyncSession, university_id: int, code: str, *, exclude_id: int | None = None
) -> bool:
    stmt = select(
        exists().where(
            Department.university_id == university_id,
            func.lower(Department.code) == code.lower(),
            Department.id != (exclude_id or 0),
        )
    )
    return bool(await session.scalar(stmt))


# Role grants


def grants_query(
    university_id: int, *, role: UserRole | None, department_id: int | None
) -> Select[UserUniversityRole, str, str]:
    stmt = (
        select(UserUniversityRole, User.email, User.full_name)
        .join(User, User.id == UserUniversityRole.user_id)
        .where(UserUniversityRole.university_id == university_id)
        .order_by(UserUniversityRole.id)
    )
    if role is not None:
        stmt = stmt.where(UserUniversityRole.role == role)
    if department_id is not None:
        stmt = stmt.where(UserUniversityRole.department_id == department_id)
    return stmt


async def get_grant(session: AsyncSession, university_id: int, grant_id: int) -> UserUniversityRole | None:
    stmt = select(UserUniversityRole).where(
        UserUniversityRole.id == grant_id, UserUniversityRole.university_id == university_id
    )
    return (await session.scalars(stmt)).one_or_none()


async def grant_exists(session: AsyncSession, user_id: int, university_id: int, role: UserRole) -> bool:
    stmt = select(
        exists().where(
            UserUniversityRole.user_id == user_id,
            UserUniversityRole.university_id == university_id,
            UserUniversityRole.role == role,
        )
    )
    return bool(await session.scalar(stmt))


async def lock_platform_admin_grants(session: AsyncSession) -> list[int]:
    """Ids of every PLATFORM_ADMIN grant, row-locked so concurrent revocations cannot both see 'not the last'."""
    stmt = (
        select(UserUniversityRole.id)
        .where(UserUniversityRole.role == UserRole.PLATFORM_ADMIN)
        .order_by(UserUniversityRole.id)
        .with_for_update()
    )
    return list((await session.scalars(stmt)).all())


# Users and members


async def get_user(session: AsyncSession, user_id: int) -> User | None:
    return await session.get(User, user_id)


async def user_grants(session: AsyncSession, user_id: int) -> tuple[Grant, ...]:
    rows = await session.execute(
        select(UserUniversityRole.university_id, UserUniversityRole.role, UserUniversityRole.department_id).where(
            UserUniversityRole.user_id == user_id
        )
    )
    return tuple(Grant(university_id=u, role=r, department_id=d) for u, r, d in rows)


def members_query(
    university_id: int,
    *,
    q: str | None,
    role: UserRole | None,
    is_active: bool | None,
    suspended: bool | None,
    suspension_details: bool,
) -> AnySelect:
    """One row per member of the university (authz.repository.member_ids_of: a role, an enrolment in one of its
    offerings, or a suspension there); roles, grants and the suspension aggregated in the same query.

    `suspended` is every row's; the suspension's columns (`suspended_at`, `suspended_by_id`, `suspension_reason`)
    are NULL unless `suspension_details`, so a caller not allowed them never has them read at all."""
    grant = UserUniversityRole
    role_text = cast(grant.role, String)
    has_grant = grant.id.is_not(None)
    suspension_columns: tuple[ColumnElement[Any], ...]
    if suspension_details:
        suspension_columns = (
            MemberSuspension.created_at.label("suspended_at"),
            MemberSuspension.suspended_by_id.label("suspended_by_id"),
            MemberSuspension.reason.label("suspension_reason"),
        )
    else:
        suspension_columns = (
            null().label("suspended_at"),
            null().label("suspended_by_id"),
            null().label("suspension_reason"),
        )
    stmt = (
        select(
            User.id,
            User.email,
            User.full_name,
            User.is_active,
            func.coalesce(
                func.array_agg(aggregate_order_by(role_text, role_text)).filter(has_grant), text("'{}'::varchar[]")
            ).label("roles"),
            func.coalesce(
                func.json_agg(
                    aggregate_order_by(
                        func.json_build_object(
                            "id", grant.id, "role", grant.role, "department_id", grant.department_id
                        ),
                        grant.id,
                    )
                ).filter(has_grant),
                text("'[]'::json"),
            ).label("grants"),
            MemberSuspension.id.is_not(None).label("suspended"),
            *suspension_columns,
        )
        .outerjoin(grant, and_(grant.user_id == User.id, grant.university_id == university_id))
        .outerjoin(
            MemberSuspension,
            and_(MemberSuspension.user_id == User.id, MemberSuspension.university_id == university_id),
        )
        .where(User.id.in_(member_ids_of(university_id)))
        .group_by(User.id, MemberSuspension.id)
        .order_by(User.email, User.id)
    )
    if q:
        pattern = contains_pattern(q)
        stmt = stmt.where(or_(User.email.ilike(pattern, escape="\\"), User.full_name.ilike(pattern, escape="\\")))
    if is_active is not None:
        stmt = stmt.where(User.is_active.is_(is_active))
    if suspended is not None:
        stmt = stmt.where(MemberSuspension.id.is_not(None) if suspended else MemberSuspension.id.is_(None))
    if role is not None:
        stmt = stmt.having(func.bool_or(grant.role == role))
    return stmt


async def get_suspension(session: AsyncSession, user_id: int, university_id: int) -> MemberSuspension | None:
    stmt = select(MemberSuspension).where(
        MemberSuspension.user_id == user_id, MemberSuspension.university_id == university_id
    )
    return (await session.scalars(stmt)).one_or_none()


async def delete_row(
    session: AsyncSession, row: Country | University | Department | UserUniversityRole | MemberSuspension
) -> None:
    await session.execute(delete(type(row)).where(type(row).id == row.id))


async def ensure_student_role(session: AsyncSession, user_id: int, university_id: int) -> None:
    """Grant STUDENT in the university unless the user already holds some role there (race-safe)."""
    has_role = await session.scalar(
        select(func.count())
        .select_from(UserUniversityRole)
        .where(UserUniversityRole.user_id == user_id, UserUniversityRole.university_id == university_id)
    )
    if has_role:
        return
    stmt = (
        insert(UserUniversityRole)
        .values(user_id=user_id, university_id=university_id, role=UserRole.STUDENT)
        .on_conflict_do_nothing(index_elements=["user_id", "university_id", "role"])
    )
    await session.execute(stmt)


async def ensure_role(
    session: AsyncSession, user_id: int, university_id: int, role: UserRole, department_id: int | None = None
) -> None:
    """Grant `role` (in `department_id`, None: university-wide) unless the user holds it already (race-safe)."""
    stmt = (
        insert(UserUniversityRole)
        .values(user_id=user_id, university_id=university_id, role=role, department_id=department_id)
        .on_conflict_do_nothing(index_elements=["user_id", "university_id", "role"])
    )
    await session.execute(stmt)


async def platform_admin_grant_ids_of(session: AsyncSession, user_id: int) -> list[int]:
    stmt = select(UserUniversityRole.id).where(
        UserUniversityRole.user_id == user_id, UserUniversityRole.role == UserRole.PLATFORM_ADMIN
    )
    return list((await session.scalars(stmt)).all())


async def delete_memberships_of(session: AsyncSession, user_id: int) -> None:
    await session.execute(delete(UserUniversityRole).where(UserUniversityRole.user_id == user_id))
    await session.execute(delete(MemberSuspension).where(MemberSuspension.user_id == user_id))
