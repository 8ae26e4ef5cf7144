"""The escalated flags of a university, for the staff who handle them: list (by status) and acknowledge/resolve."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.authz.access.governance import FlagScope
from twosigma.authz.principal import Principal
from twosigma.governance import repository as repo
from twosigma.governance.models import TutorFlag
from twosigma.governance.schemas import FlagCounts, FlagUpdate
from twosigma.kit.errors import not_found
from twosigma.kit.pagination import PageParams, PageResult, paginate


def _query(scope: FlagScope, status: str | None) -> Select[TutorFlag]:
    return repo.flags_query(scope.university.id, scope.everything, scope.all_courses, scope.department_ids, status)


async def list_flags(
    session: AsyncSession, scope: FlagScope, status: str | None, params: PageParams
) -> PageResult[TutorFlag]:
    return await paginate(session, _query(scope, status), params)


async def handle_flag(
    session: AsyncSession, scope: FlagScope, principal: Principal, flag_id: int, body: FlagUpdate, now: datetime
) -> TutorFlag:
    """Acknowledge or resolve, with a note; a flag outside the caller's scope is a 404."""
    flag = await repo.flag_in(session, _query(scope, None), flag_id)
    if flag is None:
        raise not_found("Flag", code="flag_not_found")
    flag.status = body.status
    if body.note is not None:
        flag.note = body.note
    flag.handled_by_id = principal.id
    flag.handled_at = now
    await session.flush()
    return flag


async def counts(
    session: AsyncSession, university_id: int | None, course_id: int | None, since: datetime, until: datetime
) -> FlagCounts:
    result = FlagCounts()
    for row in await repo.flag_counts(session, university_id, course_id, since, until):
        setattr(result, row.status, getattr(result, row.status, 0) + int(row.n))
        result.by_category[row.category] = result.by_category.get(row.category, 0) + int(row.n)
    return result
