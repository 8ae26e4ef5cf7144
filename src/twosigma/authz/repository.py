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
    user = await session.get(User, user_id)
    if user is None:
        return None
    return Principal(user=user, grants=await load_grants(session, user_id))
