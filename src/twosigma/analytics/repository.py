"""The overview's aggregate queries: a fixed handful, each one statement, whatever the data size."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Numeric, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from twosigma.content.models import ContentItem, Module
from twosigma.courses.models import Course, CourseOffering
from twosigma.enrollments.models import CourseEnrollment
from twosigma.enums import EnrollmentStatus, MessageRole
from twosigma.progress.models import UserModuleProgress
from twosigma.tenancy.models import University, UserUniversityRole
from twosigma.tutor.models import ChatMessage, ChatSession
from twosigma.users.models import User

ENROLLED = (EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED)


async def university_exists(session: AsyncSession, university_id: int) -> bool:
    return await session.scalar(select(University.id).where(University.id == university_id)) is not None


async def user_figures(session: AsyncSession, university_id: int | None, since_7d: date, since_30d: date) -> Any:
    stmt = select(
        func.count().label("total"),
        func.count().filter(User.last_activity_date >= since_7d).label("active_7d"),
        func.count().filter(User.last_activity_date >= since_30d).label("active_30d"),
    ).select_from(User)
    if university_id is not None:
        members = select(UserUniversityRole.user_id).where(UserUniversityRole.university_id == university_id)
        stmt = stmt.where(User.id.in_(members))
    return (await session.execute(stmt)).one()


async def enrollments_by_status(session: AsyncSession, university_id: int | None) -> Sequence[Any]:
    """Rows of (status, n: their count, progress_sum: the sum of their stored course progress), one per status;
    course progress is the root module's row of the enrolment's user and offering (no row: 0)."""
    root = aliased(Module)
    percent = func.coalesce(UserModuleProgress.progress_percent, 0)
    stmt = (
        select(
            CourseEnrollment.status,
            func.count().label("n"),
            func.coalesce(func.sum(percent), 0).label("progress_sum"),
        )
        .select_from(CourseEnrollment)
        .join(CourseOffering, CourseOffering.id == CourseEnrollment.course_offering_id)
        .outerjoin(root, and_(root.course_id == CourseOffering.course_id, root.parent_module_id.is_(None)))
        .outerjoin(
            UserModuleProgress,
            and_(
                UserModuleProgress.user_id == CourseEnrollment.user_id,
                UserModuleProgress.course_offering_id == CourseEnrollment.course_offering_id,
                UserModuleProgress.module_id == root.id,
            ),
        )
        .group_by(CourseEnrollment.status)
    )
    if university_id is not None:
        stmt = stmt.where(CourseOffering.university_id == university_id)
    return (await session.execute(stmt)).all()


def _session_scope(university_id: int) -> ColumnElement[bool]:
    """Sessions tied to a content item of one of the university's courses."""
    scoped = (
        select(ChatSession.id)
        .join(ContentItem, ContentItem.id == ChatSession.content_item_id)
        .join(Course, Course.id == ContentItem.course_id)
        .where(Course.university_id == university_id)
    )
    return ChatSession.id.in_(scoped)


async def chat_figures(session: AsyncSession, university_id: int | None, since_30d: datetime) -> Any:
    rating = ChatMessage.meta["feedback"]["rating"].astext
    assistant = ChatMessage.role == MessageRole.ASSISTANT
    sessions = select(func.count()).select_from(ChatSession)
    messages = select(
        func.count().label("messages"),
        func.count().filter(ChatMessage.role == MessageRole.USER).label("user_messages"),
        func.count().filter(assistant).label("assistant_messages"),
        func.count().filter(ChatMessage.created_at >= since_30d).label("messages_30d"),
        func.count().filter(and_(assistant, rating == "up")).label("feedback_up"),
        func.count().filter(and_(assistant, rating == "down")).label("feedback_down"),
    ).select_from(ChatMessage)
    if university_id is not None:
        sessions = sessions.where(_session_scope(university_id))
        messages = messages.join(ChatSession, ChatSession.id == ChatMessage.session_id).where(
            _session_scope(university_id)
        )
    stmt = messages.add_columns(sessions.scalar_subquery().label("sessions"))
    return (await session.execute(stmt)).one()


def _tokens(key: str) -> ColumnElement[Any]:
    """A numeric token count from meta, 0 when absent or not a number (old or partial replies)."""
    value = ChatMessage.meta[key]
    return case((func.jsonb_typeof(value) == "number", value.astext.cast(Numeric)), else_=0)


async def tokens_by_model(session: AsyncSession, university_id: int | None, since_30d: datetime) -> Sequence[Any]:
    model = func.coalesce(ChatMessage.meta["model"].astext, "unknown").label("model")
    input_tokens = func.coalesce(func.sum(_tokens("input_tokens")), 0).label("input_tokens")
    output_tokens = func.coalesce(func.sum(_tokens("output_tokens")), 0).label("output_tokens")
    stmt = (
        select(model, func.count().label("messages"), input_tokens, output_tokens)
        .where(ChatMessage.role == MessageRole.ASSISTANT, ChatMessage.created_at >= since_30d)
        .group_by(model)
        .order_by((input_tokens + output_tokens).desc(), model)
    )
    if university_id is not None:
        stmt = stmt.join(ChatSession, ChatSession.id == ChatMessage.session_id).where(_session_scope(university_id))
    return (await session.execute(stmt)).all()


async def top_courses(session: AsyncSession, university_id: int | None, limit: int) -> Sequence[Any]:
    n = func.count().label("enrollments")
    stmt = (
        select(
            Course.id,
            Course.university_id,
            Course.code,
            Course.title,
            n,
            func.count().filter(CourseEnrollment.status == EnrollmentStatus.ACTIVE).label("active"),
            func.count().filter(CourseEnrollment.status == EnrollmentStatus.COMPLETED).label("completed"),
        )
        .select_from(CourseEnrollment)
        .join(CourseOffering, CourseOffering.id == CourseEnrollment.course_offering_id)
        .join(Course, Course.id == CourseOffering.course_id)
        .where(CourseEnrollment.status.in_(ENROLLED))
        .group_by(Course.id)
        .order_by(n.desc(), Course.id)
        .limit(limit)
    )
    if university_id is not None:
        stmt = stmt.where(CourseOffering.university_id == university_id)
    return (await session.execute(stmt)).all()
