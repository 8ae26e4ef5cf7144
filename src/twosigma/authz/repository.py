from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.authz.principal import Grant, Principal
from twosigma.tenancy.models import UserUniversityRole
from twosigma.users.models import User


async def load_grants(session: AsyncSession, user_id: int) -> tuple[Grant, ...]:
    rows = await session.execute(
        select(UserUniversityRole.university_id, UserUniversityRole.role, UserUniversityRole.department_id)
        .where(UserUniversityRole.user_id == user_id)
        .order_by(UserUniversityRole.id)
    )
    return tuple(Grant(university_id=u, role=r, department_id=d) for u, r, d in rows)


async def load_principal(session: AsyncSession, user_id: int) -> Principal | None:
    """The user and their grants in ONE query (a LEFT JOIN), since every authenticated request runs it."""
    uur = UserUniversityRole
    stmt = (
        select(User, uur.university_id, uur.role, uur.department_id)
        .outerjoin(uur, uur.user_id == User.id)
        .where(User.id == user_id)
        .order_by(uur.id)
    )
    rows = (await session.execute(stmt)).all()
    if not rows:
        return None
    grants = tuple(Grant(university_id=u, role=r, department_id=d) for _, u, r, d in rows if u is not None)
    return Principal(user=rows[0][0], grants=grants)
