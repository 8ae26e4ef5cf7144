"""Every query of tutor governance: the policies, the cost ledger and what the ledger is read for."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, delete, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.content.models import ContentItem, Module
from twosigma.courses.models import Course
from twosigma.enums import MessageRole
from twosigma.governance.models import (
    CourseTutorPolicy,
    TutorFlag,
    TutorUsage,
    UniversitySetting,
    UniversityTutorPolicy,
)
from twosigma.tutor.models import ChatMessage, ChatSession
from twosigma.users.models import User

# --- Policies ------------------------------------------------------------------------------------------------------


async def university_policy(session: AsyncSession, university_id: int) -> UniversityTutorPolicy | None:
    return await session.get(UniversityTutorPolicy, university_id)


async def course_policy(session: AsyncSession, course_id: int) -> CourseTutorPolicy | None:
    return await session.get(CourseTutorPolicy, course_id)


async def policies_of(
    session: AsyncSession, university_id: int | None, course_id: int | None
) -> tuple[UniversityTutorPolicy | None, CourseTutorPolicy | None]:
    """Both levels in one statement (every turn and every course tree asks): one row, NULLs for a level not set."""
    if university_id is None:
        return None, None
    anchor = select(literal(1).label("one")).subquery("anchor")
    stmt = (
        select(UniversityTutorPolicy, CourseTutorPolicy)
        .select_from(anchor)
        .outerjoin(UniversityTutorPolicy, UniversityTutorPolicy.university_id == university_id)
        .outerjoin(CourseTutorPolicy, CourseTutorPolicy.course_id == (course_id if course_id is not None else -1))
    )
    row = (await session.execute(stmt)).one()
    return row.UniversityTutorPolicy, row.CourseTutorPolicy


async def course_of_item(session: AsyncSession, content_item_id: int) -> Row[int, int, int | None] | None:
    """(course_id, university_id, department_id) of a content item's course, or None when the item is gone."""
    stmt = (
        select(Course.id.label("course_id"), Course.university_id, Course.department_id)
        .join(Module, Module.course_id == Course.id)
        .join(ContentItem, ContentItem.module_id == Module.id)
        .where(ContentItem.id == content_item_id)
    )
    return (await session.execute(stmt)).one_or_none()


# --- The ledger ----------------------------------------------------------------------------------------------------


async def add_usage(session: AsyncSession, usage: TutorUsage) -> None:
    session.add(usage)
    await session.flush()


async def spent_by_user(session: AsyncSession, user_id: int, since: datetime) -> float:
    stmt = select(func.coalesce(func.sum(TutorUsage.cost_usd), 0.0)).where(
        TutorUsage.user_id == user_id, TutorUsage.created_at >= since
    )
    return float((await session.execute(stmt)).scalar_one())


async def spent_by_course(session: AsyncSession, course_id: int, since: datetime, until: datetime) -> float:
    stmt = select(func.coalesce(func.sum(TutorUsage.cost_usd), 0.0)).where(
        TutorUsage.course_id == course_id, TutorUsage.created_at >= since, TutorUsage.created_at < until
    )
    return float((await session.execute(stmt)).scalar_one())


async def spent_by_university(session: AsyncSession, university_id: int, since: datetime, until: datetime) -> float:
    stmt = select(func.coalesce(func.sum(TutorUsage.cost_usd), 0.0)).where(
        TutorUsage.university_id == university_id, TutorUsage.created_at >= since, TutorUsage.created_at < until
    )
    return float((await session.execute(stmt)).scalar_one())


# --- Reports -------------------------------------------------------------------------------------------------------

GROUPS = ("user", "course", "model", "day")


async def usage_groups(
    session: AsyncSession,
    group_by: str,
    university_id: int | None,
    course_id: int | None,
    since: datetime,
    until: datetime,
) -> Sequence[Any]:
    """One row per group: key, label, tokens, cost, turns, active students; biggest cost first (day: by day)."""
    usage = TutorUsage.__table__
    key: Any
    label: Any
    joins: Any = usage
    if group_by == "user":
        key, label = usage.c.user_id, User.__table__.c.full_name
        joins = usage.outerjoin(User.__table__, User.__table__.c.id == usage.c.user_id)
    elif group_by == "course":
        key, label = usage.c.course_id, Course.__table__.c.title
        joins = usage.outerjoin(Course.__table__, Course.__table__.c.id == usage.c.course_id)
    elif group_by == "model":
        key, label = usage.c.model, usage.c.model
    else:
        key = func.date(func.timezone("UTC", usage.c.created_at))
        label = key
    stmt = (
        select(
            key.label("key"),
            label.label("label"),
            func.sum(usage.c.input_tokens).label("input_tokens"),
            func.sum(usage.c.output_tokens).label("output_tokens"),
            func.sum(usage.c.cost_usd).label("cost_usd"),
            func.count().label("turns"),
            func.count(func.distinct(usage.c.user_id)).label("active_students"),
        )
        .select_from(joins)
        .where(usage.c.created_at >= since, usage.c.created_at < until)
        .group_by(key, label)
    )
    if university_id is not None:
        stmt = stmt.where(usage.c.university_id == university_id)
    if course_id is not None:
        stmt = stmt.where(usage.c.course_id == course_id)
    stmt = stmt.order_by(key) if group_by == "day" else stmt.order_by(func.sum(usage.c.cost_usd).desc(), key)
    return (await session.execute(stmt)).all()


async def course_budgets(
    session: AsyncSession, university_id: int | None, course_id: int | None
) -> Sequence[Row[int, int, float | None]]:
    """(course_id, university_id, monthly_budget_usd) of every course in scope whose own policy sets a budget."""
    stmt = (
        select(CourseTutorPolicy.course_id, Course.university_id, CourseTutorPolicy.monthly_budget_usd)
        .join(Course, Course.id == CourseTutorPolicy.course_id)
        .where(CourseTutorPolicy.monthly_budget_usd.is_not(None))
        .order_by(CourseTutorPolicy.course_id)
    )
    if university_id is not None:
        stmt = stmt.where(Course.university_id == university_id)
    if course_id is not None:
        stmt = stmt.where(CourseTutorPolicy.course_id == course_id)
    return (await session.execute(stmt)).all()


async def university_budgets(session: AsyncSession, university_id: int | None) -> Sequence[Row[int, float | None]]:
    """(university_id, monthly_budget_usd) of the universities in scope whose own policy sets a budget."""
    stmt = (
        select(UniversityTutorPolicy.university_id, UniversityTutorPolicy.monthly_budget_usd)
        .where(UniversityTutorPolicy.monthly_budget_usd.is_not(None))
        .order_by(UniversityTutorPolicy.university_id)
    )
    if university_id is not None:
        stmt = stmt.where(UniversityTutorPolicy.university_id == university_id)
    return (await session.execute(stmt)).all()


async def usage_totals(
    session: AsyncSession, university_id: int | None, course_id: int | None, since: datetime, until: datetime
) -> Any:
    usage = TutorUsage.__table__
    stmt = select(
        func.coalesce(func.sum(usage.c.input_tokens), 0).label("input_tokens"),
        func.coalesce(func.sum(usage.c.output_tokens), 0).label("output_tokens"),
        func.coalesce(func.sum(usage.c.cost_usd), 0.0).label("cost_usd"),
        func.count().label("turns"),
        func.count(func.distinct(usage.c.user_id)).label("active_students"),
    ).where(usage.c.created_at >= since, usage.c.created_at < until)
    if university_id is not None:
        stmt = stmt.where(usage.c.university_id == university_id)
    if course_id is not None:
        stmt = stmt.where(usage.c.course_id == course_id)
    return (await session.execute(stmt)).one()


async def spent_by_each(
    session: AsyncSession, column: str, ids: Sequence[int], since: datetime, until: datetime
) -> dict[int, float]:
    """Spend per university or per course (`column`: "university_id" or "course_id") in one statement."""
    if not ids:
        return {}
    key = TutorUsage.__table__.c[column]
    stmt = (
        select(key.label("id"), func.sum(TutorUsage.cost_usd).label("spent"))
        .where(key.in_(ids), TutorUsage.created_at >= since, TutorUsage.created_at < until)
        .group_by(key)
    )
    return {int(row.id): float(row.spent) for row in await session.execute(stmt)}


# --- Flags ---------------------------------------------------------------------------------------------------------


async def add_flag(session: AsyncSession, flag: TutorFlag) -> None:
    session.add(flag)
    await session.flush()


def flags_query(
    university_id: int, everything: bool, all_courses: bool, department_ids: frozenset[int], status: str | None
) -> Select[TutorFlag]:
    """A university's escalated flags the caller handles (authz/access/governance.py `FlagScope`), newest first."""
    stmt = select(TutorFlag).where(TutorFlag.university_id == university_id, TutorFlag.escalated.is_(True))
    if not everything:
        in_scope = select(Course.id).where(Course.university_id == university_id)
        if not all_courses:
            in_scope = in_scope.where(Course.department_id.in_(sorted(department_ids)))
        stmt = stmt.where(TutorFlag.course_id.in_(in_scope))
    if status is not None:
        stmt = stmt.where(TutorFlag.status == status)
    return stmt.order_by(TutorFlag.created_at.desc(), TutorFlag.id.desc())


async def delete_unescalated_flags(session: AsyncSession, chat_session_ids: Sequence[int]) -> int:
    """The flags of these chats that were not escalated; the escalated ones stay (their references go NULL when
    the chats are deleted: ON DELETE SET NULL)."""
    result = await session.execute(
        delete(TutorFlag).where(TutorFlag.session_id.in_(chat_session_ids), TutorFlag.escalated.is_(False)),
        execution_options={"synchronize_session": False},
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def delete_flags_of_user(session: AsyncSession, user_id: int) -> int:
    result = await session.execute(
        delete(TutorFlag).where(TutorFlag.user_id == user_id), execution_options={"synchronize_session": False}
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def flag_in(session: AsyncSession, query: Select[TutorFlag], flag_id: int) -> TutorFlag | None:
    return (await session.scalars(query.where(TutorFlag.id == flag_id))).one_or_none()


async def flag_counts(
    session: AsyncSession, university_id: int | None, course_id: int | None, since: datetime, until: datetime
) -> Sequence[Any]:
    """Escalated flags per (category, status) in the window."""
    stmt = (
        select(TutorFlag.category, TutorFlag.status, func.count().label("n"))
        .where(TutorFlag.escalated.is_(True), TutorFlag.created_at >= since, TutorFlag.created_at < until)
        .group_by(TutorFlag.category, TutorFlag.status)
    )
    if university_id is not None:
        stmt = stmt.where(TutorFlag.university_id == university_id)
    if course_id is not None:
        stmt = stmt.where(TutorFlag.course_id == course_id)
    return (await session.execute(stmt)).all()


# --- A university's own provider settings ---------------------------------------------------------------------------


async def university_settings(session: AsyncSession, university_id: int) -> Sequence[UniversitySetting]:
    stmt = (
        select(UniversitySetting)
        .where(UniversitySetting.university_id == university_id)
        .order_by(UniversitySetting.setting_key)
    )
    return (await session.scalars(stmt)).all()


async def encrypted_university_settings(session: AsyncSession, *, for_update: bool) -> Sequence[UniversitySetting]:
    """Every university's encrypted settings (every university: rotation and the doctor cover them all)."""
    stmt = (
        select(UniversitySetting)
        .where(UniversitySetting.is_encrypted.is_(True))
        .order_by(UniversitySetting.university_id, UniversitySetting.setting_key)
    )
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.scalars(stmt)).all()


async def university_setting(session: AsyncSession, university_id: int, key: str) -> UniversitySetting | None:
    return await session.get(UniversitySetting, (university_id, key))


# --- Oversight -----------------------------------------------------------------------------------------------------


async def chat_session(session: AsyncSession, session_id: int) -> ChatSession | None:
    return await session.get(ChatSession, session_id)


async def escalated_message_ids(session: AsyncSession, chat_session_id: int) -> list[int]:
    stmt = select(TutorFlag.message_id).where(TutorFlag.session_id == chat_session_id, TutorFlag.escalated.is_(True))
    return [m for m in (await session.scalars(stmt.distinct())).all() if m is not None]


async def with_previous(session: AsyncSession, chat_session_id: int, message_ids: Sequence[int]) -> frozenset[int]:
    """The messages and, for each, the one before it in the same chat."""
    if not message_ids:
        return frozenset()
    previous = (
        select(func.max(ChatMessage.id))
        .where(ChatMessage.session_id == chat_session_id, ChatMessage.id < TutorFlag.message_id)
        .correlate(TutorFlag)
        .scalar_subquery()
    )
    stmt = select(previous).select_from(TutorFlag).where(TutorFlag.message_id.in_(message_ids))
    before = {row for row in (await session.scalars(stmt)).all() if row is not None}
    return frozenset(message_ids) | frozenset(before)


async def messages_by_id(session: AsyncSession, chat_session_id: int, ids: frozenset[int]) -> Sequence[ChatMessage]:
    stmt = (
        select(ChatMessage)
        .where(ChatMessage.session_id == chat_session_id, ChatMessage.id.in_(sorted(ids)))
        .order_by(ChatMessage.id.desc())
    )
    return (await session.scalars(stmt)).all()


async def item_activity(session: AsyncSession, course_id: int) -> Sequence[Any]:
    """Per content item of the course: sessions and the students' turns (USER messages)."""
    stmt = (
        select(
            ContentItem.id.label("content_item_id"),
            ContentItem.title,
            func.count(func.distinct(ChatSession.id)).label("sessions"),
            func.count(ChatMessage.id).label("turns"),
        )
        .join(Module, Module.id == ContentItem.module_id)
        .join(ChatSession, ChatSession.content_item_id == ContentItem.id)
        .outerjoin(ChatMessage, (ChatMessage.session_id == ChatSession.id) & (ChatMessage.role == MessageRole.USER))
        .where(Module.course_id == course_id)
        .group_by(ContentItem.id, ContentItem.title)
        .order_by(func.count(ChatMessage.id).desc(), ContentItem.id)
    )
    return (await session.execute(stmt)).all()


async def top_terms(session: AsyncSession, course_id: int, limit: int, min_sessions: int) -> Sequence[Any]:
    """The most frequent lexemes of the students' messages in the course's chats (PostgreSQL full text, English
    configuration: stop words dropped, words stemmed), each used in at least `min_sessions` chats."""
    vector = func.to_tsvector("english", ChatMessage.content)
    lexemes = (
        select(ChatMessage.session_id, func.unnest(func.tsvector_to_array(vector)).label("term"))
        .join(ChatSession, ChatSession.id == ChatMessage.session_id)
        .join(ContentItem, ContentItem.id == ChatSession.content_item_id)
        .join(Module, Module.id == ContentItem.module_id)
        .where(Module.course_id == course_id, ChatMessage.role == MessageRole.USER)
        .subquery()
    )
    stmt = (
        select(
            lexemes.c.term,
            func.count().label("uses"),
            func.count(func.distinct(lexemes.c.session_id)).label("sessions"),
        )
        .group_by(lexemes.c.term)
        .having(func.count(func.distinct(lexemes.c.session_id)) >= min_sessions)
        .order_by(func.count().desc(), lexemes.c.term)
        .limit(limit)
    )
    return (await session.execute(stmt)).all()
