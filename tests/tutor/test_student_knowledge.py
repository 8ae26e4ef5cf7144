"""The tutor knows the student: `{{student_progress}}` and `{{recent_quiz_results}}` in the system prompt sent to the
(fake) provider — the course percent, the module's items, the latest quiz scores and the text of the questions
answered wrongly — and never an answer key, in any request."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from tests.fakes import FakeAnthropic
from tests.fixtures.assessments import QuizRoom, answers, make_quiz_room, quiz
from tests.fixtures.content import make_content_item, make_module, root_of
from tests.fixtures.factories import auth_headers
from tests.fixtures.tenancy import count_statements
from tests.fixtures.tutor import API
from twosigma.config import Settings
from twosigma.content.models import ContentItem, Module
from twosigma.tutor.builtin_prompts import install_builtin_prompts

Headers = dict[str, str]
# What the quiz's keys and explanations hold (tests/fixtures/assessments.py QUIZ): never in a request.
KEY_TEXTS = ("Paris", "9.81", "7 has no divisor", "divisible by 2", "since 987", "answer_index", "accepted_answers")


async def room_with_reading(
    db: AsyncSession, data: dict[str, Any] | None = None
) -> tuple[QuizRoom, Module, ContentItem]:
    """A quiz room plus a second module, "Reading", with two items; the chat is about its first."""
    room = await make_quiz_room(db, data)
    reading = await make_module(db, parent=await root_of(db, room.room.course), title="Reading")
    first = await make_content_item(db, module=reading, content_type=room.room.content_type, title="Forces")
    await make_content_item(db, module=reading, content_type=room.room.content_type, title="Gravity")
    return room, reading, first


@pytest.fixture
def headers(settings: Settings) -> Any:
    def of(room: QuizRoom) -> Headers:
        return auth_headers(settings, room.room.enrolled)

    return of


async def attempt(client: httpx.AsyncClient, room: QuizRoom, headers: Headers, right: int) -> None:
    response = await client.post(room.attempts_url(), json={"answers": answers(right)}, headers=headers)
    assert response.status_code == 201, response.text


async def ask(client: httpx.AsyncClient, headers: Headers, item: ContentItem) -> None:
    chat = await client.post(f"{API}/chat/sessions", json={"content_item_id": item.id}, headers=headers)
    assert chat.status_code == 201, chat.text
    response = await client.post(
        f"{API}/chat/sessions/{chat.json()['id']}/messages", json={"content": "Where am I weak?"}, headers=headers
    )
    assert response.status_code == 200, response.text


def system_of(fake: FakeAnthropic) -> str:
    system: Any = fake.last_request.json()["system"]
    return system if isinstance(system, str) else "".join(block["text"] for block in system)


def assert_no_key_in_any_request(fake: FakeAnthropic) -> None:
    assert fake.requests
    for request in fake.requests:
        body = request.body.decode()
        for secret in KEY_TEXTS:
            assert secret not in body, secret


class TestWhatTheTutorKnows:
    async def test_the_system_prompt_holds_the_progress_and_the_wrong_questions_text_and_no_key(
        self, client: httpx.AsyncClient, db: AsyncSession, headers: Any, anthropic: FakeAnthropic
    ) -> None:
        await install_builtin_prompts(db)
        room, _, forces = await room_with_reading(db)
        student = headers(room)
        await attempt(client, room, student, right=1)  # 25 %
        await attempt(client, room, student, right=2)  # 50 %: q3 and q4 wrong
        await ask(client, student, forces)

        system = system_of(anthropic)
        # The course: the quiz item at 50 % (its best grade), the two readings at 0: floor(50 / 3).
        assert "Course: 16 % complete." in system
        assert 'Module "Reading": 0 of 2 items completed, 2 remaining (not yet completed: "Forces", "Gravity").' in (
            system
        )
        assert '"Primes and capitals": latest attempt (number 2, 2 in all) scored 50 %, best 50 %, not passed.' in (
            system
        )
        wrong = system.split("Answered wrongly:", 1)[1]
        assert "  - g in m/s²?\n  - Capital of France?" in wrong
        assert "Which is prime?" not in system  # answered right
        assert "Which are even?" not in system
        assert_no_key_in_any_request(anthropic)

    async def test_a_quiz_that_withholds_feedback_keeps_the_wrong_questions_from_the_tutor(
        self, client: httpx.AsyncClient, db: AsyncSession, headers: Any, anthropic: FakeAnthropic
    ) -> None:
        await install_builtin_prompts(db)
        room, _, forces = await room_with_reading(db, quiz(show_feedback="never"))
        student = headers(room)
        await attempt(client, room, student, right=2)
        await ask(client, student, forces)
        system = system_of(anthropic)
        assert "scored 50 %, not passed." in system
        assert "is not shown to the student" in system
        assert "g in m/s²?" not in system
        assert "Capital of France?" not in system
        assert_no_key_in_any_request(anthropic)

    async def test_without_attempts_or_enrolment_the_variables_say_so(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, headers: Any, anthropic: FakeAnthropic
    ) -> None:
        await install_builtin_prompts(db)
        room, _, forces = await room_with_reading(db)
        await ask(client, headers(room), forces)
        assert "No quiz attempts in this course yet." in system_of(anthropic)
        assert "Course: 0 % complete." in system_of(anthropic)
        # Staff chatting about the item have no enrolment: no progress to speak of.
        await ask(client, auth_headers(settings, room.room.campus.instructor), forces)
        assert "No progress recorded" in system_of(anthropic)

    async def test_the_knowledge_costs_two_statements_a_turn(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        headers: Any,
        anthropic: FakeAnthropic,
        db_engine: AsyncEngine,
    ) -> None:
        room, _, forces = await room_with_reading(db)
        student = headers(room)
        for right in (0, 1, 2):
            await attempt(client, room, student, right=right)
        chat = await client.post(f"{API}/chat/sessions", json={"content_item_id": forces.id}, headers=student)
        with count_statements(db_engine) as counted:
            response = await client.post(
                f"{API}/chat/sessions/{chat.json()['id']}/messages", json={"content": "Hi"}, headers=student
            )
        assert response.status_code == 200
        statements = counted.statements
        assert len([s for s in statements if "FROM quiz_attempts" in s]) == 1
        assert len([s for s in statements if "WITH enrolment" in s]) == 1
