"""A learner with something of every kind the platform keeps about a person, each carrying a unique marker."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.taxonomy import make_subject
from tests.fixtures.tutor import Lesson, make_lesson
from twosigma.assessments.models import QuizAttempt
from twosigma.audit import service as audit
from twosigma.audit.models import AuditAction
from twosigma.auth.models import AccountToken
from twosigma.auth.service import issue_pair
from twosigma.config import Settings
from twosigma.enums import InvitationKind, LearningGoal, MessageRole, UserRole
from twosigma.feature_requests.models import FeatureRequest
from twosigma.invitations.models import Invitation
from twosigma.kit.state import state_of
from twosigma.mail import service as mail
from twosigma.progress.models import UserContentProgress
from twosigma.sso.models import SsoIdentity
from twosigma.tenancy.models import MemberSuspension
from twosigma.tutor.models import ChatMessage, ChatNote, ChatSession
from twosigma.users.models import User, UserProfile, UserSubjectPreference


@dataclass
class Learner:
    lesson: Lesson
    user: User
    marker: str
    chat: ChatSession

    @property
    def personal_strings(self) -> dict[str, str]:
        """What must not survive an erasure, by what it is."""
        m = self.marker
        return {
            "email": self.user.email,
            "full name": self.user.full_name,
            "chat message": f"my question {m}",
            "tutor answer": f"tutor answer {m}",
            "chat note": f"my note {m}",
            "note selection": f"selected {m}",
            "chat context": f"context {m}",
            "feature request": f"please add {m}",
            "quiz answer": f"free answer {m}",
            "sso subject": f"sub-{m}",
            "suspension reason": f"reason {m}",
            "former address": f"former-{m}@example.edu",
        }


async def make_learner(db: AsyncSession, settings: Settings) -> Learner:
    marker = secrets.token_hex(6)
    lesson = await make_lesson(db)
    user = lesson.student
    user.email = f"erasable-{marker}@example.edu"
    user.full_name = f"Ada Erasable {marker}"
    subject = await make_subject(db)
    db.add_all(
        [
            UserProfile(user_id=user.id, date_of_birth=date(2001, 2, 3), learning_goal=LearningGoal.PERSONAL_INTEREST),
            UserSubjectPreference(user_id=user.id, subject_id=subject.id),
        ]
    )
    offering_id = lesson.classroom.campus.offering.id
    chat = ChatSession(user_id=user.id, content_item_id=lesson.item.id, content_context={"note": f"context {marker}"})
    db.add(chat)
    await db.flush()
    question = ChatMessage(session_id=chat.id, role=MessageRole.USER, content=f"my question {marker}", meta={})
    answer = ChatMessage(
        session_id=chat.id, role=MessageRole.ASSISTANT, content=f"tutor answer {marker}", meta={"rating": 1}
    )
    db.add_all([question, answer])
    await db.flush()
    db.add_all(
        [
            ChatNote(
                session_id=chat.id,
                message_id=answer.id,
                content=f"my note {marker}",
                selected_text=f"selected {marker}",
            ),
            FeatureRequest(user_id=user.id, title="Dark mode", description=f"please add {marker}"),
            UserContentProgress(
                user_id=user.id, course_offering_id=offering_id, content_item_id=lesson.item.id, progress_percent=60
            ),
            QuizAttempt(
                user_id=user.id,
                course_offering_id=offering_id,
                content_item_id=lesson.item.id,
                attempt_number=1,
                quiz_version="v1",
                answers={"q1": f"free answer {marker}"},
                results=[{"question_id": "q1", "answered": True, "correct": False, "points": 0.0}],
                points=0.0,
                max_points=1.0,
                score_percent=0.0,
                passed=False,
            ),
            SsoIdentity(user_id=user.id, issuer="https://idp.example.edu", subject=f"sub-{marker}"),
            AccountToken(
                user_id=user.id,
                purpose="VERIFY",
                token_hash=secrets.token_hex(32),
                email=user.email,
                fingerprint="f" * 64,
                expires_at=datetime.now(UTC) + timedelta(days=1),
            ),
            Invitation(
                university_id=lesson.classroom.campus.university.id,
                email=user.email,
                kind=InvitationKind.ROLE,
                role=UserRole.TA,
                token_hash=secrets.token_hex(32),
                expires_at=datetime.now(UTC) + timedelta(days=14),
            ),
        ]
    )
    other_university = lesson.classroom.campus.other_university
    suspension_university = lesson.classroom.campus.university
    db.add(MemberSuspension(user_id=user.id, university_id=other_university.id, reason=f"reason {marker}"))
    await db.flush()
    await audit.record(
        db,
        AuditAction.MEMBER_SUSPENDED,
        actor=None,
        university_id=suspension_university.id,
        target_user_id=user.id,
        target_email=user.email,
        details={"reason": f"reason {marker}"},
    )
    await mail.enqueue(
        db,
        recipient=user.email,
        template="verify_email",
        locale="en",
        link="http://localhost:8000/verify-email?token=t",
        values={"name": user.full_name},
        idempotency_key=f"test-verify:{marker}",
    )
    # The notice an earlier email change sent to the address the account had before (auth/account.py).
    await mail.enqueue(
        db,
        recipient=f"former-{marker}@example.edu",
        template="email_changed",
        locale="en",
        link="",
        values={"name": user.full_name, "target": user.email},
        idempotency_key=f"email_changed:{user.id}:1",
    )
    await issue_pair(db, settings, user.id)
    await db.flush()
    return Learner(lesson=lesson, user=user, marker=marker, chat=chat)


@pytest.fixture
async def learner(db: AsyncSession, settings: Settings) -> Learner:
    return await make_learner(db, settings)


async def drain(app: FastAPI, queue: str, at: datetime | None = None) -> int:
    state = state_of(app)
    if at is not None:
        state.jobs.clock = lambda: at
    return await state.jobs.drain(state.database, queue)
