"""Every query of the privacy domain: its own tables (exports, retention runs) and the reads that gather one
person's data from every domain for an export (reads only: each domain erases its own rows, privacy/service.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Column, Table, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.assessments.models import QuizAttempt
from twosigma.courses.models import Course, CourseOffering
from twosigma.enrollments.models import CourseEnrollment
from twosigma.feature_requests.models import FeatureRequest
from twosigma.jobs.queue import JobTable
from twosigma.privacy.models import ChatRetentionRun, DataExport
from twosigma.progress.models import UserContentProgress, UserModuleProgress
from twosigma.sso.models import SsoIdentity
from twosigma.taxonomy.models import Subject
from twosigma.tenancy.models import MemberSuspension, University, UserUniversityRole
from twosigma.tutor.models import ChatMessage, ChatNote, ChatSession
from twosigma.users.models import User, UserProfile, UserSubjectPreference

EXPORTS = JobTable(
    cast(Table, DataExport.__table__),
    pending="PENDING",
    running="RUNNING",
    done="DONE",
    failed="FAILED",
    max_attempts=5,
    lease=timedelta(minutes=10),
    # Building an export has no outside effect: a vanished worker's export is simply built again.
    reclaim_expired=True,
)

Record = dict[str, Any]


# --- Exports -------------------------------------------------------------------------------------------------------


async def get_export(session: AsyncSession, export_id: int) -> DataExport | None:
    return await session.get(DataExport, export_id)


async def open_export_of(session: AsyncSession, user_id: int, now: datetime) -> DataExport | None:
    """The user's export still waiting or being built, if any (a second request returns it)."""
    result = await session.scalars(
        select(DataExport)
        .where(
            DataExport.user_id == user_id, DataExport.status.in_(("PENDING", "RUNNING")), DataExport.expires_at > now
        )
        .order_by(DataExport.id.desc())
        .limit(1)
    )
    return result.first()


async def add_export(session: AsyncSession, user_id: int, now: datetime, expires_at: datetime) -> DataExport:
    export = DataExport(user_id=user_id, next_attempt_at=now, expires_at=expires_at)
    session.add(export)
    await session.flush()
    return export


async def archive_chunk(session: AsyncSession, export_id: int, offset: int, size: int) -> bytes:
    """`size` bytes of the stored ZIP from `offset` (0-based): the download streams it without holding it whole."""
    chunk = await session.scalar(
        select(func.substring(DataExport.archive, offset + 1, size)).where(DataExport.id == export_id)
    )
    return bytes(chunk or b"")


async def delete_expired(session: AsyncSession, now: datetime) -> int:
    result = await session.execute(
        delete(DataExport).where(DataExport.expires_at <= now), execution_options={"synchronize_session": False}
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def delete_exports_of(session: AsyncSession, user_id: int) -> None:
    await session.execute(
        delete(DataExport).where(DataExport.user_id == user_id), execution_options={"synchronize_session": False}
    )


async def owners(session: AsyncSession, export_ids: Sequence[int]) -> dict[int, int]:
    rows = await session.execute(select(DataExport.id, DataExport.user_id).where(DataExport.id.in_(export_ids)))
    return {row.id: row.user_id for row in rows}


# --- What an export holds ------------------------------------------------------------------------------------------


def _columns(table: Any, *, without: tuple[str, ...] = ()) -> list[Column[Any]]:
    return [column for column in table.__table__.columns if column.name not in without]


async def _records(session: AsyncSession, stmt: Any) -> list[Record]:
    return [dict(row) for row in (await session.execute(stmt)).mappings()]


async def account(session: AsyncSession, user_id: int) -> Record | None:
    # Never the password hash: it is a credential, not information about the person.
    rows = await _records(session, select(*_columns(User, without=("password_hash",))).where(User.id == user_id))
    return rows[0] if rows else None


async def profile(session: AsyncSession, user_id: int) -> Record | None:
    rows = await _records(
        session, select(*_columns(UserProfile, without=("id", "user_id"))).where(UserProfile.user_id == user_id)
    )
    return rows[0] if rows else None


async def subject_preferences(session: AsyncSession, user_id: int) -> list[Record]:
    return await _records(
        session,
        select(Subject.id.label("subject_id"), Subject.name)
        .join(UserSubjectPreference, UserSubjectPreference.subject_id == Subject.id)
        .where(UserSubjectPreference.user_id == user_id)
        .order_by(Subject.id),
    )


async def roles(session: AsyncSession, user_id: int) -> list[Record]:
    return await _records(
        session,
        select(
            UserUniversityRole.university_id,
            University.name.label("university_name"),
            UserUniversityRole.role,
            UserUniversityRole.department_id,
        )
        .join(University, University.id == UserUniversityRole.university_id)
        .where(UserUniversityRole.user_id == user_id)
        .order_by(UserUniversityRole.id),
    )


async def suspensions(session: AsyncSession, user_id: int) -> list[Record]:
    return await _records(
        session,
        select(*_columns(MemberSuspension, without=("user_id", "suspended_by_id")))
        .where(MemberSuspension.user_id == user_id)
        .order_by(MemberSuspension.id),
    )


async def enrollments(session: AsyncSession, user_id: int) -> list[Record]:
    return await _records(
        session,
        select(
            CourseEnrollment.id,
            CourseEnrollment.course_offering_id,
            Course.id.label("course_id"),
            Course.title.label("course_title"),
            CourseEnrollment.status,
            CourseEnrollment.enrolled_at,
            CourseEnrollment.completed_at,
        )
        .join(CourseOffering, CourseOffering.id == CourseEnrollment.course_offering_id)
        .join(Course, Course.id == CourseOffering.course_id)
        .where(CourseEnrollment.user_id == user_id)
        .order_by(CourseEnrollment.id),
    )


async def module_progress(session: AsyncSession, user_id: int) -> list[Record]:
    return await _records(
        session,
        select(*_columns(UserModuleProgress, without=("user_id",)))
        .where(UserModuleProgress.user_id == user_id)
        .order_by(UserModuleProgress.id),
    )


async def content_progress(session: AsyncSession, user_id: int) -> list[Record]:
    return await _records(
        session,
        select(*_columns(UserContentProgress, without=("user_id",)))
        .where(UserContentProgress.user_id == user_id)
        .order_by(UserContentProgress.id),
    )


async def quiz_attempts(session: AsyncSession, user_id: int) -> list[Record]:
    return await _records(
        session,
        select(*_columns(QuizAttempt, without=("user_id",)))
        .where(QuizAttempt.user_id == user_id)
        .order_by(QuizAttempt.id),
    )


async def chat_sessions(session: AsyncSession, user_id: int) -> list[Record]:
    # Not the share token: it is a credential (whoever holds it reads the chat); `share_enabled` says if it exists.
    return await _records(
        session,
        select(*_columns(ChatSession, without=("user_id", "share_token")))
        .where(ChatSession.user_id == user_id)
        .order_by(ChatSession.id),
    )


async def chat_messages(session: AsyncSession, user_id: int) -> list[Record]:
    return await _records(
        session,
        select(*_columns(ChatMessage))
        .join(ChatSession, ChatSession.id == ChatMessage.session_id)
        .where(ChatSession.user_id == user_id)
        .order_by(ChatMessage.session_id, ChatMessage.id),
    )


async def chat_notes(session: AsyncSession, user_id: int) -> list[Record]:
    return await _records(
        session,
        select(*_columns(ChatNote))
        .join(ChatSession, ChatSession.id == ChatNote.session_id)
        .where(ChatSession.user_id == user_id)
        .order_by(ChatNote.session_id, ChatNote.id),
    )


async def feature_requests(session: AsyncSession, user_id: int) -> list[Record]:
    return await _records(
        session,
        select(*_columns(FeatureRequest, without=("user_id",)))
        .where(FeatureRequest.user_id == user_id)
        .order_by(FeatureRequest.id),
    )


async def sso_identities(session: AsyncSession, user_id: int) -> list[Record]:
    return await _records(
        session,
        select(*_columns(SsoIdentity, without=("user_id",)))
        .where(SsoIdentity.user_id == user_id)
        .order_by(SsoIdentity.id),
    )


# --- Chat retention runs -------------------------------------------------------------------------------------------


async def claim_retention_day(session: AsyncSession, day: date, now: datetime) -> bool:
    """Insert the day's run row; False when another process (or an earlier drain) has it. A concurrent claimer
    waits on the uncommitted row and then sees the conflict, so one transaction runs the day."""
    result = await session.execute(
        insert(ChatRetentionRun)
        .values(run_on=day, started_at=now)
        .on_conflict_do_nothing(index_elements=["run_on"])
        .returning(ChatRetentionRun.run_on)
    )
    return result.first() is not None


async def record_retention(session: AsyncSession, day: date, universities: int, sessions: int, messages: int) -> None:
    await session.execute(
        update(ChatRetentionRun)
        .where(ChatRetentionRun.run_on == day)
        .values(universities=universities, sessions_deleted=sessions, messages_deleted=messages)
    )
