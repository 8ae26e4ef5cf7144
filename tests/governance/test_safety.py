"""Safety screens: each category in two languages, a clean control set, flags on the message and in meta.safety,
support text after a high screen, escalation to the right staff only, the safety contact's mail, the endpoint."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fakes import FakeAnthropic, FakeOpenAI
from tests.fakes.llm import Mode
from tests.fixtures.factories import auth_headers, grant_role, make_department, make_member
from tests.fixtures.tutor import API, Lesson, make_chat, make_lesson
from twosigma.config import Settings
from twosigma.enums import UserRole
from twosigma.governance.models import TutorFlag, UniversityTutorPolicy
from twosigma.governance.services.moderation import EndpointModerator, RuleModerator
from twosigma.mail.models import MailOutbox
from twosigma.system_settings.registry import DEFAULT_SUPPORT_TEXT
from twosigma.tutor.models import ChatSession

CASES = [
    ("self_harm", "en", "Honestly I just want to die, nothing makes sense"),
    ("self_harm", "en", "I keep thinking about how to kill myself"),
    ("self_harm", "de", "Ich will mich umbringen, ich schaffe das nicht mehr"),
    ("self_harm", "de", "Manchmal denke ich an Selbstmord"),
    ("violence", "en", "If he fails me again I will kill him"),
    ("violence", "en", "tomorrow I bring a gun to class"),
    ("violence", "de", "Ich bring dich um, wenn du das verrätst"),
    ("violence", "de", "Ich plane einen Amoklauf an der Schule"),
    ("abuse", "en", "you idiot, that answer is wrong"),
    ("abuse", "en", "fuck you and your derivatives"),
    ("abuse", "de", "Halt die Fresse, du blöder Bot"),
    ("abuse", "de", "du Idiot, das stimmt nicht"),
    ("personal_data", "en", "call me at (555) 123-4567 tonight"),
    ("personal_data", "en", "my email is jane.doe@example.com"),
    ("personal_data", "de", "Meine Handynummer ist 0170 1234567"),
    ("personal_data", "de", "Ruf mich an: +49 30 12345678"),
]

CLEAN = [
    "What is the derivative of sin(x^2)?",
    "Solve x^2 + 4x + 4 = 0 and explain each step.",
    "How do I kill a process in Linux?",
    "Why was Caesar killed in 44 BC?",
    "This integral is killing me, can you help?",
    "I'm dying to understand the chain rule.",
    "The exam is on 2026-05-12 at 10:00, room 0.5.",
    "Pi is about 3.14159265358979",
    "Die Lösung ist 42, oder?",
    "Was ist die Ableitung von e hoch x?",
    "Kannst du mir die Kettenregel erklären, bitte?",
    "Ich habe 2 Äpfel und 3 Birnen.",
    "Between 1990 and 2020 the population grew by 12 345 678 people.",
    "Das Spiel war ein Schuss ins Blaue.",
]


class TestTheRules:
    @pytest.mark.parametrize(("category", "language", "text"), CASES)
    async def test_each_category_is_found_in_both_languages(self, category: str, language: str, text: str) -> None:
        hits = await RuleModerator().screen(text)
        assert [hit.category for hit in hits] == [category], (language, text)

    @pytest.mark.parametrize("text", CLEAN)
    async def test_the_clean_control_set_raises_no_flag(self, text: str) -> None:
        assert await RuleModerator().screen(text) == []

    async def test_severities(self) -> None:
        severities = {hit.category: hit.severity for _, _, text in CASES for hit in await RuleModerator().screen(text)}
        assert severities == {"self_harm": "high", "violence": "high", "abuse": "medium", "personal_data": "low"}


@pytest.fixture
async def lesson(db: AsyncSession) -> Lesson:
    return await make_lesson(db)


@pytest.fixture
async def chat(db: AsyncSession, lesson: Lesson) -> ChatSession:
    return await make_chat(db, lesson.student, content_item_id=lesson.item.id)


async def send(
    client: httpx.AsyncClient, settings: Settings, lesson: Lesson, chat: ChatSession, text: str
) -> dict[str, Any]:
    r = await client.post(
        f"{API}/chat/sessions/{chat.id}/messages",
        json={"content": text},
        headers=auth_headers(settings, lesson.student),
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def flags_of(db: AsyncSession, chat: ChatSession) -> list[TutorFlag]:
    stmt = select(TutorFlag).where(TutorFlag.session_id == chat.id).order_by(TutorFlag.id)
    return list((await db.scalars(stmt)).all())


class TestAFlaggedTurn:
    async def test_a_high_message_is_flagged_escalated_and_answered_with_the_support_text(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        lesson: Lesson,
        chat: ChatSession,
        anthropic: FakeAnthropic,
    ) -> None:
        turn = await send(client, settings, lesson, chat, "I want to die, this course is too much")
        user_safety = turn["user_message"]["meta"]["safety"]
        assert user_safety["flags"] == [{"category": "self_harm", "severity": "high"}]
        assert user_safety["person_notified"] is True
        assert "notified" in user_safety["notice"]
        reply = turn["assistant_message"]
        assert reply["content"] == "Hello from the fake tutor.\n\n" + DEFAULT_SUPPORT_TEXT
        assert reply["meta"]["safety"]["support_text_added"] is True
        [flag] = await flags_of(db, chat)
        assert (flag.category, flag.severity, flag.screen, flag.escalated, flag.status) == (
            "self_harm",
            "high",
            "input",
            True,
            "open",
        )
        assert (flag.message_id, flag.course_id) == (turn["user_message"]["id"], lesson.classroom.course.id)

    async def test_the_universitys_support_text_is_used(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        lesson: Lesson,
        chat: ChatSession,
        anthropic: FakeAnthropic,
    ) -> None:
        db.add(UniversityTutorPolicy(university_id=lesson.classroom.campus.university.id, support_text="Ruf 112 an."))
        await db.flush()
        turn = await send(client, settings, lesson, chat, "Ich will sterben")
        assert turn["assistant_message"]["content"].endswith("\n\nRuf 112 an.")

    async def test_the_stream_carries_the_support_text_as_a_last_delta(
        self,
        client: httpx.AsyncClient,
        settings: Settings,
        lesson: Lesson,
        chat: ChatSession,
        anthropic: FakeAnthropic,
    ) -> None:
        r = await client.post(
            f"{API}/chat/sessions/{chat.id}/messages",
            json={"content": "I will kill him tomorrow"},
            headers=auth_headers(settings, lesson.student) | {"Accept": "text/event-stream"},
        )
        assert DEFAULT_SUPPORT_TEXT.split(",")[0] in r.text

    async def test_a_low_hit_is_shown_to_the_owner_only_and_adds_no_support_text(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        lesson: Lesson,
        chat: ChatSession,
        anthropic: FakeAnthropic,
    ) -> None:
        turn = await send(client, settings, lesson, chat, "my number is +49 170 1234567")
        assert turn["user_message"]["meta"]["safety"]["flags"] == [{"category": "personal_data", "severity": "low"}]
        assert turn["user_message"]["meta"]["safety"]["person_notified"] is False
        assert turn["assistant_message"]["content"] == "Hello from the fake tutor."
        [flag] = await flags_of(db, chat)
        assert flag.escalated is False

    async def test_a_clean_turn_has_no_safety_meta_and_no_flag(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        lesson: Lesson,
        chat: ChatSession,
        anthropic: FakeAnthropic,
    ) -> None:
        turn = await send(client, settings, lesson, chat, CLEAN[0])
        assert "safety" not in turn["user_message"]["meta"]
        assert "safety" not in turn["assistant_message"]["meta"]
        assert await flags_of(db, chat) == []

    async def test_a_flagged_reply_is_screened_too(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        lesson: Lesson,
        chat: ChatSession,
        anthropic: FakeAnthropic,
    ) -> None:
        anthropic.script(deltas=("Write to help@example.org", " for details."))
        turn = await send(client, settings, lesson, chat, "Whom can I ask?")
        assert turn["assistant_message"]["meta"]["safety"]["flags"] == [
            {"category": "personal_data", "severity": "low"}
        ]
        [flag] = await flags_of(db, chat)
        assert (flag.screen, flag.message_id) == ("output", turn["assistant_message"]["id"])


class TestTheSafetyContactsMail:
    async def test_a_high_flag_is_mailed_when_smtp_is_configured(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        lesson: Lesson,
        chat: ChatSession,
        anthropic: FakeAnthropic,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setenv("TWOSIGMA_MAIL_SMTP_HOST", "127.0.0.1")
        university = lesson.classroom.campus.university
        db.add(UniversityTutorPolicy(university_id=university.id, safety_contact_email="safety@uni.example"))
        await db.flush()
        await send(client, settings, lesson, chat, "I want to kill myself")
        [mail] = (await db.scalars(select(MailOutbox).where(MailOutbox.recipient == "safety@uni.example"))).all()
        assert mail.template == "tutor_safety_flag"
        assert "self_harm" in mail.body_text
        assert "kill myself" not in mail.body_text  # no message text leaves in a mail

    async def test_nothing_is_mailed_without_smtp(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        lesson: Lesson,
        chat: ChatSession,
        anthropic: FakeAnthropic,
    ) -> None:
        university = lesson.classroom.campus.university
        db.add(UniversityTutorPolicy(university_id=university.id, safety_contact_email="safety@uni.example"))
        await db.flush()
        await send(client, settings, lesson, chat, "I want to kill myself")
        assert (await db.scalars(select(MailOutbox).where(MailOutbox.recipient == "safety@uni.example"))).all() == []


class TestTheModerationEndpoint:
    async def test_the_endpoints_categories_become_flags(self, fake_openai: FakeOpenAI) -> None:
        moderator = EndpointModerator("sk-mod", f"{fake_openai.url}/v1", 5.0, None)
        hits = await moderator.screen("something [moderate:self-harm/intent] and [moderate:harassment]")
        assert {(hit.category, hit.severity, hit.source) for hit in hits} == {
            ("self_harm", "high", "endpoint"),
            ("abuse", "medium", "endpoint"),
        }
        assert fake_openai.last_request.headers["authorization"] == "Bearer sk-mod"

    async def test_a_failing_endpoint_screens_nothing_and_the_turn_goes_on(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        lesson: Lesson,
        chat: ChatSession,
        anthropic: FakeAnthropic,
        fake_openai: FakeOpenAI,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setenv("TWOSIGMA_TUTOR_MODERATION_ENDPOINT", "true")
        monkeypatch.setenv("TWOSIGMA_LLM_OPENAI_API_KEY", "sk-mod")
        monkeypatch.setenv("TWOSIGMA_LLM_OPENAI_BASE_URL", f"{fake_openai.url}/v1")
        fake_openai.script(mode=Mode.ERROR, status=500)
        turn = await send(client, settings, lesson, chat, "I want to die [moderate:violence]")
        # The rules still found self-harm; the endpoint's answer was lost.
        assert turn["user_message"]["meta"]["safety"]["flags"] == [{"category": "self_harm", "severity": "high"}]

    async def test_a_configured_endpoint_screens_the_turn(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        lesson: Lesson,
        chat: ChatSession,
        anthropic: FakeAnthropic,
        fake_openai: FakeOpenAI,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setenv("TWOSIGMA_TUTOR_MODERATION_ENDPOINT", "true")
        monkeypatch.setenv("TWOSIGMA_LLM_OPENAI_API_KEY", "sk-mod")
        monkeypatch.setenv("TWOSIGMA_LLM_OPENAI_BASE_URL", f"{fake_openai.url}/v1")
        turn = await send(client, settings, lesson, chat, "a coded threat [moderate:violence]")
        assert turn["user_message"]["meta"]["safety"]["flags"] == [{"category": "violence", "severity": "high"}]
        assert [r.path for r in fake_openai.requests] == ["/v1/moderations", "/v1/moderations"]  # input and reply


class TestEscalation:
    async def raise_flag(
        self, client: httpx.AsyncClient, settings: Settings, lesson: Lesson, chat: ChatSession
    ) -> None:
        await send(client, settings, lesson, chat, "I want to die")

    async def test_listed_for_the_admin_and_the_courses_instructor_only(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        lesson: Lesson,
        chat: ChatSession,
        anthropic: FakeAnthropic,
    ) -> None:
        await self.raise_flag(client, settings, lesson, chat)
        campus = lesson.classroom.campus
        url = f"{API}/universities/{campus.university.id}/tutor-flags"
        assert lesson.classroom.course.department_id == campus.department.id
        own_instructor = await make_member(db, campus.university, UserRole.STUDENT)
        await grant_role(db, own_instructor, campus.university, UserRole.INSTRUCTOR, department=campus.department)
        other_department = await make_department(db, university=campus.university)
        elsewhere = await make_member(db, campus.university, UserRole.STUDENT)
        await grant_role(db, elsewhere, campus.university, UserRole.INSTRUCTOR, department=other_department)

        async def listed(user: Any) -> int:
            r = await client.get(url, headers=auth_headers(settings, user))
            assert r.status_code == 200, r.text
            return int(r.json()["total"])

        assert await listed(campus.admin) == 1
        assert await listed(own_instructor) == 1
        assert await listed(elsewhere) == 0
        assert (await client.get(url, headers=auth_headers(settings, campus.ta))).status_code == 403
        assert (await client.get(url, headers=auth_headers(settings, lesson.student))).status_code == 403
        assert (await client.get(url, headers=auth_headers(settings, campus.outsider_admin))).status_code == 404

    async def test_an_admin_acknowledges_then_resolves_with_a_note(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        lesson: Lesson,
        chat: ChatSession,
        anthropic: FakeAnthropic,
    ) -> None:
        await self.raise_flag(client, settings, lesson, chat)
        campus = lesson.classroom.campus
        url = f"{API}/universities/{campus.university.id}/tutor-flags"
        headers = auth_headers(settings, campus.admin)
        [flag] = (await client.get(url, params={"status": "open"}, headers=headers)).json()["items"]
        assert "content" not in flag
        r = await client.patch(f"{url}/{flag['id']}", json={"status": "acknowledged"}, headers=headers)
        assert (r.json()["status"], r.json()["handled_by_id"]) == ("acknowledged", campus.admin.id)
        r = await client.patch(
            f"{url}/{flag['id']}", json={"status": "resolved", "note": "Spoke with the student."}, headers=headers
        )
        assert (r.json()["status"], r.json()["note"]) == ("resolved", "Spoke with the student.")
        assert (await client.get(url, params={"status": "open"}, headers=headers)).json()["total"] == 0
        assert (await client.get(url, params={"status": "resolved"}, headers=headers)).json()["total"] == 1
        report = (await client.get(f"{API}/admin/analytics/tutor-usage", headers=headers)).json()
        assert report["flags"]["resolved"] == 1
        assert report["flags"]["by_category"] == {"self_harm": 1}

    async def test_another_universitys_admin_cannot_handle_the_flag(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        lesson: Lesson,
        chat: ChatSession,
        anthropic: FakeAnthropic,
    ) -> None:
        await self.raise_flag(client, settings, lesson, chat)
        [flag] = await flags_of(db, chat)
        campus = lesson.classroom.campus
        headers = auth_headers(settings, campus.outsider_admin)
        for university in (campus.university, campus.other_university):
            r = await client.patch(
                f"{API}/universities/{university.id}/tutor-flags/{flag.id}",
                json={"status": "resolved"},
                headers=headers,
            )
            assert r.status_code == 404
