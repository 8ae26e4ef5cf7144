from __future__ import annotations

from sqlalchemy import bindparam, select
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


_uur = UserUniversityRole
# Built once: every authenticated request runs it, and building a select costs more than its cached compile.
_PRINCIPAL = (
    select(User, _uur.university_id, _uur.role, _uur.department_id)
    .outerjoin(_uur, _uur.user_id == User.id)
    .where(User.id == bindparam("user_id"))
    .order_by(_uur.id)
)


async def load_principal(session: AsyncSession, user_id: int) -> Principal | None:
    """The user and their grants in ONE query (a LEFT JOIN), since every authenticated request runs it."""
    rows = (await session.execute(_PRINCIPAL, {"user_id": user_id})).all()
    if not rows:
        return None
    grants = tuple(Grant(university_id=u, role=r, department_id=d) for _, u, r, d in rows if u is not None)
    return Principal(user=rows[0][0], grants=grants)
