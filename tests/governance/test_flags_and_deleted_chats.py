"""An escalated flag is a safety record staff need: it outlives its chat — the student's delete and chat retention
alike — without any of the chat's text and with its references to the chat NULL, and stays listed for the staff who
handle it. A flag that was not escalated goes with its chat. Erasing the student deletes every flag of theirs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fakes import FakeAnthropic
from tests.fixtures.factories import DEFAULT_PASSWORD, auth_headers
from tests.fixtures.tutor import API, Lesson, make_chat, make_lesson
from twosigma.config import Settings
from twosigma.governance.models import TutorFlag
from twosigma.tutor import service as tutor_service
from twosigma.tutor.models import ChatMessage, ChatSession

HIGH = "I want to die, this course is too much"  # self_harm, high: escalated
LOW = "my number is +49 170 1234567"  # personal_data, low: not escalated


@pytest.fixture
async def lesson(db: AsyncSession) -> Lesson:
    return await make_lesson(db)


@pytest.fixture
async def chat(db: AsyncSession, lesson: Lesson) -> ChatSession:
    return await make_chat(db, lesson.student, content_item_id=lesson.item.id)


async def send(client: httpx.AsyncClient, settings: Settings, lesson: Lesson, chat: ChatSession, text: str) -> None:
    r = await client.post(
        f"{API}/chat/sessions/{chat.id}/messages",
        json={"content": text},
        headers=auth_headers(settings, lesson.student),
    )
    assert r.status_code == 200, r.text


async def flags_of_user(db: AsyncSession, user_id: int) -> list[TutorFlag]:
    stmt = (
        select(TutorFlag)
        .where(TutorFlag.user_id == user_id)
        .order_by(TutorFlag.id)
        .execution_options(populate_existing=True)
    )
    return list((await db.scalars(stmt)).all())


async def flag_two_ways(client: httpx.AsyncClient, settings: Settings, lesson: Lesson, chat: ChatSession) -> int:
    await send(client, settings, lesson, chat, HIGH)
    await send(client, settings, lesson, chat, LOW)
    return chat.id


async def assert_only_the_escalated_flag_survives(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, lesson: Lesson, chat_id: int
) -> None:
    assert (await db.scalars(select(ChatSession.id).where(ChatSession.id == chat_id))).all() == []
    assert (await db.scalars(select(ChatMessage.id).where(ChatMessage.session_id == chat_id))).all() == []
    [flag] = await flags_of_user(db, lesson.student.id)
    assert (flag.escalated, flag.category, flag.severity, flag.status) == (True, "self_harm", "high", "open")
    assert (flag.session_id, flag.message_id) == (None, None)
    assert (flag.user_id, flag.course_id) == (lesson.student.id, lesson.classroom.course.id)
    # Still listed for the staff who handle it, with no text of the chat, and still handled.
    campus = lesson.classroom.campus
    url = f"{API}/universities/{campus.university.id}/tutor-flags"
    headers = auth_headers(settings, campus.admin)
    [listed] = (await client.get(url, headers=headers)).json()["items"]
    assert (listed["id"], listed["session_id"], listed["message_id"]) == (flag.id, None, None)
    assert "die" not in str(listed)
    r = await client.patch(f"{url}/{flag.id}", json={"status": "resolved", "note": "Called."}, headers=headers)
    assert r.status_code == 200, r.text
    report = (await client.get(f"{API}/admin/analytics/tutor-usage", headers=headers)).json()
    assert report["flags"]["by_category"] == {"self_harm": 1}


class TestAnEscalatedFlagOutlivesItsChat:
    async def test_the_students_delete(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        lesson: Lesson,
        chat: ChatSession,
        anthropic: FakeAnthropic,
    ) -> None:
        chat_id = await flag_two_ways(client, settings, lesson, chat)
        assert len(await flags_of_user(db, lesson.student.id)) == 2
        r = await client.delete(f"{API}/chat/sessions/{chat_id}", headers=auth_headers(settings, lesson.student))
        assert r.status_code == 204, r.text
        await assert_only_the_escalated_flag_survives(client, db, settings, lesson, chat_id)

    async def test_chat_retention(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        lesson: Lesson,
        chat: ChatSession,
        anthropic: FakeAnthropic,
    ) -> None:
        chat_id = await flag_two_ways(client, settings, lesson, chat)
        university_id = lesson.classroom.campus.university.id
        deleted = await tutor_service.delete_idle_chats(db, university_id, datetime.now(UTC) + timedelta(days=1))
        assert deleted[0] == 1
        await assert_only_the_escalated_flag_survives(client, db, settings, lesson, chat_id)


class TestErasure:
    async def test_erasing_the_student_deletes_every_flag_of_theirs(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        lesson: Lesson,
        chat: ChatSession,
        anthropic: FakeAnthropic,
    ) -> None:
        # One escalated flag already outlives a deleted chat; another chat is still there with both kinds.
        await send(client, settings, lesson, chat, HIGH)
        r = await client.delete(f"{API}/chat/sessions/{chat.id}", headers=auth_headers(settings, lesson.student))
        assert r.status_code == 204
        second = await make_chat(db, lesson.student, content_item_id=lesson.item.id)
        await flag_two_ways(client, settings, lesson, second)
        assert len(await flags_of_user(db, lesson.student.id)) == 3

        r = await client.request(
            "DELETE",
            f"{API}/users/me",
            json={"password": DEFAULT_PASSWORD},
            headers=auth_headers(settings, lesson.student),
        )
        assert r.status_code == 204, r.text
        assert await flags_of_user(db, lesson.student.id) == []
