"""The escalated flags of a university, for the staff who handle them: list (by status) and acknowledge/resolve;
what deleting a chat and erasing a user do to flags.

An escalated flag is a safety record staff need: it outlives its chat (the student's delete, chat retention), with
`message_id` and `session_id` NULL (ON DELETE SET NULL) — a flag never holds the message's text, so none is kept.
A flag that was not escalated is only a count for analytics and goes with its chat (`forget_chats`, called by the
tutor domain before it deletes chats). Erasing a user deletes every flag of that user, escalated ones included
(`erase_user`): the staff's note may describe the student. docs/tutor-governance.md "Flags and deleted chats"."""

from __future__ import annotations

from collections.abc import Sequence
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


async def forget_chats(session: AsyncSession, chat_session_ids: Sequence[int]) -> None:
    """These chats are about to be deleted: their flags that were not escalated go; escalated ones stay, and lose
    their references to the chat when it is deleted."""
    if chat_session_ids:
        await repo.delete_unescalated_flags(session, list(chat_session_ids))


async def erase_user(session: AsyncSession, user_id: int) -> None:
    """An account being erased: every flag of it goes, escalated ones included."""
    await repo.delete_flags_of_user(session, user_id)
