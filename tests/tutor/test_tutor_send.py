"""POST /chat/sessions/{id}/messages: streamed and JSON answers, the prompt the model gets, and nothing lost."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fakes import FakeAnthropic, FakeOpenAI
from tests.fixtures.factories import auth_headers
from tests.fixtures.prompts import make_prompt
from tests.fixtures.tutor import API, SSE, Lesson, make_lesson, parse_sse
from twosigma.config import Settings
from twosigma.enums import LearningGoal, StudyLevel
from twosigma.tutor.builtin_prompts import GENERAL_PROTOCOL, GENERAL_PROTOCOL_TEXT
from twosigma.tutor.models import ChatMessage
from twosigma.users.models import User, UserProfile

Headers = dict[str, str]


@pytest.fixture
async def lesson(db: AsyncSession) -> Lesson:
    return await make_lesson(db)


@pytest.fixture
def headers(settings: Settings, lesson: Lesson) -> Headers:
    return auth_headers(settings, lesson.student)


async def open_chat(client: httpx.AsyncClient, headers: Headers, lesson: Lesson) -> int:
    response = await client.post(f"{API}/chat/sessions", json={"content_item_id": lesson.item.id}, headers=headers)
    assert response.status_code == 201, response.text
    chat_id: int = response.json()["id"]
    return chat_id


async def stored(db: AsyncSession, chat_id: int) -> list[ChatMessage]:
    stmt = select(ChatMessage).where(ChatMessage.session_id == chat_id).order_by(ChatMessage.id)
    return list((await db.scalars(stmt.execution_options(populate_existing=True))).all())


def sent_system(fake: FakeAnthropic) -> str:
    system: Any = fake.last_request.json()["system"]
    return system if isinstance(system, str) else "".join(block["text"] for block in system)


class TestStreaming:
    async def test_the_stream_carries_the_stored_user_message_the_deltas_and_the_stored_reply(
        self, client: httpx.AsyncClient, db: AsyncSession, headers: Headers, lesson: Lesson, anthropic: FakeAnthropic
    ) -> None:
        chat_id = await open_chat(client, headers, lesson)
        response = await client.post(
            f"{API}/chat/sessions/{chat_id}/messages",
            json={"content": "What is the chain rule?"},
            headers=headers | SSE,
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/event-stream")
        events = parse_sse(response.text)
        names = [name for name, _ in events]
        assert names == ["message.created", "delta", "delta", "delta", "delta", "delta", "message.completed"]
        created, completed = events[0][1], events[-1][1]
        assert created["role"] == "USER"
        assert created["content"] == "What is the chain rule?"
        assert "".join(data["text"] for name, data in events if name == "delta") == "Hello from the fake tutor."
        assert completed["role"] == "ASSISTANT"
        assert completed["content"] == "Hello from the fake tutor."
        meta = completed["meta"]
        assert meta["provider"] == "anthropic"
        assert meta["prompt"] == {"name": GENERAL_PROTOCOL, "version": None, "label": None}
        assert (meta["input_tokens"], meta["output_tokens"], meta["stop_reason"]) == (42, 7, "end_turn")
        assert isinstance(meta["time_to_first_token_ms"], int)
        assert isinstance(meta["latency_ms"], int)
        assert "incomplete" not in meta
        rows = await stored(db, chat_id)
        assert [(r.id, r.content) for r in rows] == [
            (created["id"], "What is the chain rule?"),
            (completed["id"], "Hello from the fake tutor."),
        ]

    async def test_json_mode_returns_both_stored_messages(
        self, client: httpx.AsyncClient, db: AsyncSession, headers: Headers, lesson: Lesson, openai: FakeOpenAI
    ) -> None:
        chat_id = await open_chat(client, headers, lesson)
        response = await client.post(f"{API}/chat/sessions/{chat_id}/messages", json={"content": "Hi"}, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["user_message"]["content"] == "Hi"
        assert body["assistant_message"]["content"] == "Hello from the fake tutor."
        assert body["assistant_message"]["meta"]["provider"] == "openai"
        assert [r.content for r in await stored(db, chat_id)] == ["Hi", "Hello from the fake tutor."]


class TestPrompt:
    async def test_the_system_prompt_is_compiled_with_the_item_and_the_student(
        self, client: httpx.AsyncClient, db: AsyncSession, headers: Headers, lesson: Lesson, anthropic: FakeAnthropic
    ) -> None:
        student = lesson.student
        student.full_name, student.locale = "Ada Lovelace", "fr"
        db.add(
            UserProfile(
                user_id=student.id, study_level=StudyLevel.UNDERGRADUATE, learning_goal=LearningGoal.CERTIFICATION
            )
        )
        await db.flush()
        await make_prompt(
            db,
            GENERAL_PROTOCOL,
            "Tutor {{student_name}} on {{content_title}} in {{course_code}} / {{module_title}}; "
            "locale {{locale}}; level {{study_level}}; goal {{learning_goal}}; objectives:\n{{learning_objectives}}\n"
            "data: {{content_data}}",
            labels=["production"],
        )
        chat_id = await open_chat(client, headers, lesson)
        response = await client.post(f"{API}/chat/sessions/{chat_id}/messages", json={"content": "Hi"}, headers=headers)
        assert response.status_code == 200, response.text
        system = sent_system(anthropic)
        assert "Tutor Ada Lovelace on The chain rule in" in system
        assert lesson.classroom.course.code in system
        assert "/ Derivatives;" in system
        assert "locale fr; level UNDERGRADUATE; goal CERTIFICATION" in system
        assert "- Apply the chain rule\n- Spot inner and outer functions" in system
        assert "d/dx sin(x^2)" in system
        assert response.json()["assistant_message"]["meta"]["prompt"] == {
            "name": GENERAL_PROTOCOL,
            "version": 1,
            "label": "production",
        }

    async def test_a_missing_profile_compiles_to_empty_strings(
        self, client: httpx.AsyncClient, headers: Headers, lesson: Lesson, anthropic: FakeAnthropic, db: AsyncSession
    ) -> None:
        await make_prompt(
            db, GENERAL_PROTOCOL, "level=[{{study_level}}] goal=[{{learning_goal}}]", labels=["production"]
        )
        chat_id = await open_chat(client, headers, lesson)
        await client.post(f"{API}/chat/sessions/{chat_id}/messages", json={"content": "Hi"}, headers=headers)
        assert sent_system(anthropic) == "level=[] goal=[]"

    async def test_the_items_own_prompt_and_label_are_used_with_their_config(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, anthropic: FakeAnthropic
    ) -> None:
        lesson = await make_lesson(db, prompt_name="Chain Rule Coach", prompt_label="staging")
        headers = auth_headers(settings, lesson.student)
        await make_prompt(db, "Chain Rule Coach", "production text", labels=["production"])
        await make_prompt(
            db,
            "Chain Rule Coach",
            "staging text for {{content_title}}",
            labels=["staging"],
            config={"model": "claude-from-config", "temperature": 0.2, "max_tokens": 321},
        )
        chat_id = await open_chat(client, headers, lesson)
        response = await client.post(f"{API}/chat/sessions/{chat_id}/messages", json={"content": "Hi"}, headers=headers)
        assert response.status_code == 200, response.text
        sent = anthropic.last_request.json()
        assert sent_system(anthropic) == "staging text for The chain rule"
        assert sent["model"] == "claude-from-config"
        assert sent["max_tokens"] == 321
        meta = response.json()["assistant_message"]["meta"]
        assert meta["prompt"] == {"name": "Chain Rule Coach", "version": 2, "label": "staging"}
        assert meta["model"] == "claude-from-config"

    async def test_prompt_config_temperature_reaches_an_openai_compatible_provider(
        self, client: httpx.AsyncClient, db: AsyncSession, headers: Headers, lesson: Lesson, openai: FakeOpenAI
    ) -> None:
        await make_prompt(
            db, GENERAL_PROTOCOL, "be kind", labels=["production"], config={"temperature": 0.3, "max_tokens": 99}
        )
        chat_id = await open_chat(client, headers, lesson)
        await client.post(f"{API}/chat/sessions/{chat_id}/messages", json={"content": "Hi"}, headers=headers)
        sent = openai.last_request.json()
        assert sent["temperature"] == 0.3
        assert sent.get("max_tokens", sent.get("max_completion_tokens")) == 99
        assert sent["messages"][0] == {"role": "system", "content": "be kind"}

    async def test_without_stored_prompts_the_built_in_text_is_used(
        self, client: httpx.AsyncClient, headers: Headers, lesson: Lesson, anthropic: FakeAnthropic
    ) -> None:
        chat_id = await open_chat(client, headers, lesson)
        await client.post(f"{API}/chat/sessions/{chat_id}/messages", json={"content": "Hi"}, headers=headers)
        system = sent_system(anthropic)
        assert system.startswith(GENERAL_PROTOCOL_TEXT.split("{{")[0])
        assert "The chain rule" in system
        assert "Socratic" in system

    async def test_the_settings_default_prompt_name_is_honoured(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        headers: Headers,
        lesson: Lesson,
        anthropic: FakeAnthropic,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setenv("TWOSIGMA_TUTOR_DEFAULT_PROMPT_NAME", "House Style")
        await make_prompt(db, "House Style", "house style", labels=["production"])
        chat_id = await open_chat(client, headers, lesson)
        await client.post(f"{API}/chat/sessions/{chat_id}/messages", json={"content": "Hi"}, headers=headers)
        assert sent_system(anthropic) == "house style"


class TestHistory:
    async def test_earlier_turns_are_sent_in_order_with_the_new_message_last(
        self, client: httpx.AsyncClient, headers: Headers, lesson: Lesson, anthropic: FakeAnthropic
    ) -> None:
        chat_id = await open_chat(client, headers, lesson)
        url = f"{API}/chat/sessions/{chat_id}/messages"
        await client.post(url, json={"content": "first"}, headers=headers)
        await client.post(url, json={"content": "second"}, headers=headers)
        assert anthropic.last_request.json()["messages"] == [
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "Hello from the fake tutor."},
            {"role": "user", "content": "second"},
        ]


class TestStreak:
    async def test_a_chat_message_starts_a_streak(
        self, client: httpx.AsyncClient, db: AsyncSession, headers: Headers, lesson: Lesson, anthropic: FakeAnthropic
    ) -> None:
        chat_id = await open_chat(client, headers, lesson)
        await client.post(f"{API}/chat/sessions/{chat_id}/messages", json={"content": "Hi"}, headers=headers)
        stmt = select(User.current_streak_days, User.last_activity_date).where(User.id == lesson.student.id)
        streak, last = (await db.execute(stmt)).one()
        assert streak == 1
        assert last is not None


class TestValidation:
    @pytest.mark.parametrize("content", ["", "   ", "x" * 20_001])
    async def test_empty_or_oversized_content_is_422_and_nothing_is_stored(
        self, client: httpx.AsyncClient, db: AsyncSession, headers: Headers, lesson: Lesson, content: str
    ) -> None:
        chat_id = await open_chat(client, headers, lesson)
        response = await client.post(
            f"{API}/chat/sessions/{chat_id}/messages", json={"content": content}, headers=headers
        )
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "validation_error"
        count = await db.scalar(select(func.count()).where(ChatMessage.session_id == chat_id))
        assert count == 0
