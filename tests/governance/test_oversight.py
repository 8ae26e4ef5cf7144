"""Instructor oversight with privacy: what staff read of a student's chat under each chat_visibility, the audit
entry of every staff read, the student's list of reads, and the course's tutor insights."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.factories import auth_headers, make_member
from tests.fixtures.tutor import API, Lesson, chain_messages, make_chat, make_lesson
from twosigma.audit.models import AuditEvent
from twosigma.config import Settings
from twosigma.enums import MessageRole, UserRole
from twosigma.governance.models import TutorFlag, UniversityTutorPolicy
from twosigma.tutor.models import ChatMessage, ChatSession


@pytest.fixture
async def lesson(db: AsyncSession) -> Lesson:
    return await make_lesson(db)


async def chat_with(db: AsyncSession, lesson: Lesson, texts: list[str], *, flag_at: int | None = None) -> ChatSession:
    chat = await make_chat(db, lesson.student, content_item_id=lesson.item.id)
    messages = []
    for n, text in enumerate(texts):
        message = ChatMessage(
            session_id=chat.id, role=MessageRole.USER if n % 2 == 0 else MessageRole.ASSISTANT, content=text, meta={}
        )
        db.add(message)
        await db.flush()
        messages.append(message)
    await chain_messages(db, chat.id)  # one path, as a conversation the tutor stored
    if flag_at is not None:
        db.add(
            TutorFlag(
                message_id=messages[flag_at].id,
                session_id=chat.id,
                user_id=lesson.student.id,
                university_id=lesson.classroom.campus.university.id,
                course_id=lesson.classroom.course.id,
                category="self_harm",
                severity="high",
                screen="input",
                source="rules",
                escalated=True,
            )
        )
        await db.flush()
    return chat


async def visibility(db: AsyncSession, lesson: Lesson, mode: str) -> None:
    db.add(UniversityTutorPolicy(university_id=lesson.classroom.campus.university.id, chat_visibility=mode))
    await db.flush()


async def messages(client: httpx.AsyncClient, settings: Settings, user: Any, chat: ChatSession) -> httpx.Response:
    return await client.get(f"{API}/chat/sessions/{chat.id}/messages", headers=auth_headers(settings, user))


TEXTS = ["first question", "first answer", "second question", "second answer", "I want to die", "support"]


class TestPrivate:
    async def test_an_unflagged_chat_is_404_for_staff(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, lesson: Lesson
    ) -> None:
        chat = await chat_with(db, lesson, TEXTS)
        for user in (lesson.classroom.campus.admin, lesson.classroom.campus.instructor):
            assert (await messages(client, settings, user, chat)).status_code == 404
            r = await client.get(f"{API}/chat/sessions/{chat.id}", headers=auth_headers(settings, user))
            assert r.status_code == 404

    async def test_staff_read_only_the_flagged_message_and_the_one_before(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, lesson: Lesson
    ) -> None:
        chat = await chat_with(db, lesson, TEXTS, flag_at=4)
        r = await messages(client, settings, lesson.classroom.campus.instructor, chat)
        assert r.status_code == 200, r.text
        assert [m["content"] for m in r.json()["items"]] == ["I want to die", "second answer"]

    async def test_staff_never_get_the_share_link_that_would_open_the_whole_chat(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, lesson: Lesson
    ) -> None:
        chat = await chat_with(db, lesson, TEXTS, flag_at=4)
        shared = await client.post(
            f"{API}/chat/sessions/{chat.id}/share", headers=auth_headers(settings, lesson.student)
        )
        assert shared.status_code in (200, 201), shared.text
        token = shared.json()["share_token"]
        own = await client.get(f"{API}/chat/sessions/{chat.id}", headers=auth_headers(settings, lesson.student))
        assert own.json()["share_token"] == token
        staff = lesson.classroom.campus.instructor
        r = await client.get(f"{API}/chat/sessions/{chat.id}", headers=auth_headers(settings, staff))
        assert r.status_code == 200, r.text
        assert r.json()["share_token"] is None
        assert token not in r.text

    async def test_a_ta_or_a_classmate_still_gets_404(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, lesson: Lesson
    ) -> None:
        chat = await chat_with(db, lesson, TEXTS, flag_at=4)
        classmate = await make_member(db, lesson.classroom.campus.university, UserRole.STUDENT)
        for user in (lesson.classroom.campus.ta, classmate, lesson.classroom.campus.outsider_admin):
            assert (await messages(client, settings, user, chat)).status_code == 404


class TestFlaggedAndCourse:
    async def test_flagged_shows_the_whole_flagged_session(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, lesson: Lesson
    ) -> None:
        await visibility(db, lesson, "flagged")
        chat = await chat_with(db, lesson, TEXTS, flag_at=4)
        quiet = await chat_with(db, lesson, ["just maths"])
        r = await messages(client, settings, lesson.classroom.campus.admin, chat)
        assert len(r.json()["items"]) == len(TEXTS)
        assert (await messages(client, settings, lesson.classroom.campus.admin, quiet)).status_code == 404

    async def test_course_lets_staff_who_see_progress_read_every_chat(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, lesson: Lesson
    ) -> None:
        await visibility(db, lesson, "course")
        chat = await chat_with(db, lesson, ["just maths", "sure"])
        r = await messages(client, settings, lesson.classroom.campus.ta, chat)
        assert r.status_code == 200
        assert len(r.json()["items"]) == 2
        r = await client.get(
            f"{API}/chat/sessions/{chat.id}", headers=auth_headers(settings, lesson.classroom.campus.ta)
        )
        assert r.status_code == 200
        assert (await messages(client, settings, lesson.classroom.campus.outsider_admin, chat)).status_code == 404

    async def test_staff_still_cannot_write_to_the_chat(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, lesson: Lesson
    ) -> None:
        await visibility(db, lesson, "course")
        chat = await chat_with(db, lesson, ["just maths"])
        headers = auth_headers(settings, lesson.classroom.campus.admin)
        assert (await client.delete(f"{API}/chat/sessions/{chat.id}", headers=headers)).status_code == 404
        r = await client.post(f"{API}/chat/sessions/{chat.id}/messages", json={"content": "hi"}, headers=headers)
        assert r.status_code == 404


class TestReadsAreAudited:
    async def test_every_staff_read_is_audited_and_listed_for_the_student(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, lesson: Lesson
    ) -> None:
        await visibility(db, lesson, "course")
        chat = await chat_with(db, lesson, ["just maths"])
        ta = lesson.classroom.campus.ta
        await messages(client, settings, ta, chat)
        await client.get(f"{API}/chat/sessions/{chat.id}", headers=auth_headers(settings, ta))
        await messages(client, settings, lesson.student, chat)  # the owner's own read: not recorded
        events = (
            await db.scalars(
                select(AuditEvent).where(AuditEvent.resource_type == "chat_session", AuditEvent.resource_id == chat.id)
            )
        ).all()
        assert sorted(e.details["read"] for e in events) == ["messages", "session"]
        assert {(e.action, e.actor_id, e.target_user_id, e.university_id) for e in events} == {
            ("chat.read", ta.id, lesson.student.id, lesson.classroom.campus.university.id)
        }
        reads = await client.get(f"{API}/chat/sessions/{chat.id}/reads", headers=auth_headers(settings, lesson.student))
        assert reads.status_code == 200
        assert [item["reader_id"] for item in reads.json()["items"]] == [ta.id, ta.id]
        assert reads.json()["items"][0]["reader_email"] == ta.email

    async def test_the_reads_are_the_students_own(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, lesson: Lesson
    ) -> None:
        chat = await chat_with(db, lesson, ["just maths"])
        r = await client.get(
            f"{API}/chat/sessions/{chat.id}/reads", headers=auth_headers(settings, lesson.classroom.campus.admin)
        )
        assert r.status_code == 404


class TestInsights:
    async def test_sessions_turns_and_top_terms_without_message_text(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, lesson: Lesson
    ) -> None:
        for n in range(3):
            await chat_with(db, lesson, [f"How does the chain rule work for case {n}?", "answer", "chain again"])
        await chat_with(db, lesson, ["Zebras are unusual"])
        r = await client.get(
            f"{API}/courses/{lesson.classroom.course.id}/tutor-insights",
            headers=auth_headers(settings, lesson.classroom.campus.instructor),
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["chat_visibility"] == "private"
        [item] = body["items"]
        assert (item["content_item_id"], item["sessions"], item["turns"]) == (lesson.item.id, 4, 7)
        terms = {t["term"]: t for t in body["top_terms"]}
        assert terms["chain"]["sessions"] == 3
        assert terms["chain"]["uses"] == 6
        assert "zebra" not in terms  # one chat only: hidden in private mode
        assert "How does the chain rule" not in r.text

    async def test_students_get_403_and_outsiders_404(
        self, client: httpx.AsyncClient, settings: Settings, lesson: Lesson
    ) -> None:
        url = f"{API}/courses/{lesson.classroom.course.id}/tutor-insights"
        assert (await client.get(url, headers=auth_headers(settings, lesson.student))).status_code == 403
        assert (
            await client.get(url, headers=auth_headers(settings, lesson.classroom.campus.outsider_admin))
        ).status_code == 404
