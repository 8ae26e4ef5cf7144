"""The key never leaves the server (issue 19): no route returns a gradable item's answer keys (or explanations) to
anyone who cannot edit the course, and nothing sent to an LLM provider holds them. Editors still read the whole item.

The walk takes every GET route from the app's OpenAPI document, so a new route that returns item data is walked as
soon as it exists; a route with a path parameter this world has no value for fails the walk until one is added.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fakes import FakeAnthropic
from tests.fixtures.content import Classroom, make_classroom, make_content_item, make_module, root_of
from tests.fixtures.factories import auth_headers
from tests.fixtures.llm_env import _clean_environment, _close_llm_clients, use_fake_anthropic  # noqa: F401
from tests.fixtures.quiz_content import QUIZ, key_names, keys_in_text, make_quiz_type, quiz
from tests.fixtures.tutor import make_chat
from twosigma.assessments.quiz import student_view
from twosigma.assessments.views import item_data_for
from twosigma.config import Settings
from twosigma.content.models import ContentItem, Module
from twosigma.enrollments.models import CourseEnrollment
from twosigma.feature_requests.models import FeatureRequest
from twosigma.privacy.models import DataExport
from twosigma.privacy.service import EXPORT_LIFETIME, build_zip
from twosigma.taxonomy.models import ContentType, Subject
from twosigma.tutor.models import ChatSession

API = "/api/v1"
Headers = dict[str, str]
PARAM = re.compile(r"{(\w+)}")


@pytest.fixture
def anthropic(fake_anthropic: FakeAnthropic, monkeypatch: pytest.MonkeyPatch) -> FakeAnthropic:
    """The tutor's provider is the fake Anthropic API (as in tests/tutor/conftest.py)."""
    return use_fake_anthropic(
        fake_anthropic, monkeypatch, api_key="sk-ant-keys-test-0123456789", model="claude-tutor-test"
    )


@dataclass
class World:
    room: Classroom
    quiz_type: ContentType
    item: ContentItem
    student: Headers
    values: dict[str, str]  # a value for every path parameter of the API, as the student would use it


async def _open_chat(client: httpx.AsyncClient, headers: Headers, item_id: int) -> dict[str, Any]:
    response = await client.post(f"{API}/chat/sessions", json={"content_item_id": item_id}, headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
async def world(db: AsyncSession, client: httpx.AsyncClient, settings: Settings) -> World:
    room = await make_classroom(db)
    module = await make_module(db, parent=await root_of(db, room.course), title="Check yourself")
    quiz_type = await make_quiz_type(db)
    item = await make_content_item(db, module=module, content_type=quiz_type, title="Planets", data_json=quiz())
    student = auth_headers(settings, room.enrolled)
    chat = await _open_chat(client, student, item.id)
    shared = await client.post(f"{API}/chat/sessions/{chat['id']}/share", headers=student)
    assert shared.status_code == 200, shared.text
    note = await client.post(f"{API}/chat/sessions/{chat['id']}/notes", json={"content": "revise"}, headers=student)
    assert note.status_code == 201, note.text
    # A chat opened before content types could be gradable: its snapshot holds the keys, and says nothing of them.
    await make_chat(
        db,
        room.enrolled,
        content_item_id=item.id,
        content_context={"content_item": {"id": item.id, "content_type": quiz_type.name, "data_json": quiz()}},
    )
    course = room.course
    subject = await db.get(Subject, course.primary_subject_id)
    assert subject is not None
    enrollment_id = await db.scalar(
        select(CourseEnrollment.id).where(
            CourseEnrollment.user_id == room.enrolled.id, CourseEnrollment.course_offering_id == room.campus.offering.id
        )
    )
    request = FeatureRequest(user_id=room.enrolled.id, title="More quizzes", description="Please")
    archive = build_zip({"quiz_attempts.json": []})
    export = DataExport(
        user_id=room.enrolled.id,
        status="DONE",
        archive=archive,
        size_bytes=len(archive),
        completed_at=datetime.now(UTC),
        expires_at=datetime.now(UTC) + EXPORT_LIFETIME,
    )
    db.add_all([request, export])
    await db.flush()
    values = {
        "course_id": course.id,
        "module_id": module.id,
        "content_item_id": item.id,
        "offering_id": room.campus.offering.id,
        "session_id": chat["id"],
        "token": shared.json()["share_token"],
        "enrollment_id": enrollment_id,
        "university_id": room.campus.university.id,
        "department_id": room.campus.department.id,
        "country_id": room.campus.university.country_id,
        "subject_id": subject.id,
        "domain_id": subject.domain_id,
        "content_type_id": quiz_type.id,
        "request_id": request.id,
        "export_id": export.id,
        "university_short_code": room.campus.university.short_code,
        # Staff/admin-only routes that carry no item data: a student is refused whatever the value.
        "name": "General Protocol",
        "key": "tutor.open_chat",
    }
    return World(room, quiz_type, item, student, {name: str(value) for name, value in values.items()})


def get_paths(app: FastAPI) -> list[str]:
    return sorted(path for path, operations in app.openapi()["paths"].items() if "get" in operations)


def assert_no_key(path: str, response: httpx.Response) -> None:
    found = keys_in_text(response.text)
    if "json" in response.headers.get("content-type", ""):
        found |= key_names(response.json())
    assert not found, f"GET {path} ({response.status_code}) returned answer keys {sorted(found)}: {response.text}"


class TestEveryRouteAsAStudent:
    async def test_no_get_route_returns_an_answer_key_to_an_enrolled_student(
        self, app: FastAPI, client: httpx.AsyncClient, world: World
    ) -> None:
        statuses: dict[str, int] = {}
        for template in get_paths(app):
            missing = set(PARAM.findall(template)) - set(world.values)
            assert not missing, f"{template}: give the walk a value for {sorted(missing)} (World.values)"
            path = PARAM.sub(lambda match: world.values[match.group(1)], template)
            response = await client.get(path, headers=world.student)
            assert_no_key(template, response)
            statuses[template] = response.status_code
        # The walk reached the routes that carry the quiz (it is not vacuous).
        for template in (
            f"{API}/content-items/{{content_item_id}}",
            f"{API}/modules/{{module_id}}/content-items",
            f"{API}/courses/{{course_id}}/tree",
            f"{API}/chat/sessions",
            f"{API}/chat/sessions/{{session_id}}",
            f"{API}/shared/chats/{{token}}",
        ):
            assert statuses[template] == 200, template

    async def test_the_student_reads_the_questions_without_keys_or_explanations(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        item = (await client.get(f"{API}/content-items/{world.item.id}", headers=world.student)).json()
        assert item["data_json"] == student_view(QUIZ)
        assert item["data_json"]["instructions"] == QUIZ["instructions"]
        assert [q["prompt"] for q in item["data_json"]["questions"]] == [q["prompt"] for q in QUIZ["questions"]]
        assert item["data_json"]["questions"][0]["choices"] == ["Mars", "Jupiter", "Venus"]
        listed = (await client.get(f"{API}/modules/{world.item.module_id}/content-items", headers=world.student)).json()
        assert [row["data_json"] for row in listed["items"]] == [student_view(QUIZ)]

    async def test_both_chat_snapshots_read_without_keys_and_the_new_one_is_stored_without_them(
        self, client: httpx.AsyncClient, db: AsyncSession, world: World
    ) -> None:
        sessions = (await client.get(f"{API}/chat/sessions", headers=world.student)).json()["items"]
        assert len(sessions) == 2
        for chat in sessions:
            assert chat["content_context"]["content_item"]["data_json"] == student_view(QUIZ)
        stored = await db.scalars(
            select(ChatSession.content_context).where(ChatSession.user_id == world.room.enrolled.id)
        )
        contexts = list(stored)
        assert sum(1 for context in contexts if not key_names(context)) == 1  # the new one; the old one as it was

    async def test_a_chat_opened_by_a_student_returns_its_context_without_keys(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        chat = await _open_chat(client, world.student, world.item.id)
        assert not key_names(chat)
        assert chat["content_context"]["content_item"]["gradable"] is True

    async def test_a_stored_quiz_in_the_old_form_reads_without_its_key(
        self, client: httpx.AsyncClient, db: AsyncSession, world: World
    ) -> None:
        module = await db.get(Module, world.item.module_id)
        assert module is not None
        old = {"questions": [{"prompt": "2 + 2?", "choices": ["3", "4"], "answer_index": 1, "explanation": "4"}]}
        legacy = await make_content_item(db, module=module, content_type=world.quiz_type, data_json=old)
        response = await client.get(f"{API}/content-items/{legacy.id}", headers=world.student)
        assert response.status_code == 200
        assert response.json()["data_json"] == {"questions": [{"prompt": "2 + 2?", "choices": ["3", "4"]}]}


class TestStaff:
    async def test_an_editor_reads_and_lists_the_whole_item(
        self, client: httpx.AsyncClient, settings: Settings, world: World
    ) -> None:
        for user in (world.room.campus.instructor, world.room.campus.admin):
            headers = auth_headers(settings, user)
            item = (await client.get(f"{API}/content-items/{world.item.id}", headers=headers)).json()
            assert item["data_json"] == QUIZ
            listed = (await client.get(f"{API}/modules/{world.item.module_id}/content-items", headers=headers)).json()
            assert listed["items"][0]["data_json"] == QUIZ

    async def test_a_ta_who_cannot_edit_the_course_reads_the_student_view(
        self, client: httpx.AsyncClient, settings: Settings, world: World
    ) -> None:
        headers = auth_headers(settings, world.room.campus.ta)
        item = (await client.get(f"{API}/content-items/{world.item.id}", headers=headers)).json()
        assert item["data_json"] == student_view(QUIZ)

    async def test_the_tutor_never_reads_keys_even_in_an_editors_chat(
        self, client: httpx.AsyncClient, settings: Settings, world: World, anthropic: FakeAnthropic
    ) -> None:
        headers = auth_headers(settings, world.room.campus.instructor)
        chat = await _open_chat(client, headers, world.item.id)
        assert not key_names(chat)
        response = await client.post(
            f"{API}/chat/sessions/{chat['id']}/messages", json={"content": "Give me the answers"}, headers=headers
        )
        assert response.status_code == 200, response.text
        assert not keys_in_text(anthropic.last_request.body.decode())


class TestWhatTheProviderReceives:
    async def test_no_request_to_the_provider_holds_a_key_for_new_and_old_snapshots(
        self, client: httpx.AsyncClient, world: World, anthropic: FakeAnthropic
    ) -> None:
        sessions = (await client.get(f"{API}/chat/sessions", headers=world.student)).json()["items"]
        assert len(sessions) == 2
        for chat in sessions:
            response = await client.post(
                f"{API}/chat/sessions/{chat['id']}/messages",
                json={"content": "Which one is it?"},
                headers=world.student,
            )
            assert response.status_code == 200, response.text
            body = anthropic.last_request.body.decode()
            assert "Which planet is largest?" in body  # the quiz reached the tutor ...
            assert not keys_in_text(body), body  # ... without its keys
            assert not key_names(anthropic.last_request.json())


class TestTheOneDecision:
    @pytest.mark.parametrize(
        ("gradable", "answer_keys", "whole"),
        [(True, False, False), (True, True, True), (False, False, True), (False, True, True)],
    )
    def test_item_data_for(self, gradable: bool, answer_keys: bool, whole: bool) -> None:
        data = quiz()
        view = item_data_for(data, gradable=gradable, answer_keys=answer_keys)
        assert (view == QUIZ) is whole
        assert data == QUIZ  # never changed in place

    @pytest.mark.parametrize(
        "data",
        [
            {"questions": {"q1": {"prompt": "?", "answer_index": 1, "explanation": "why"}}},
            {"questions": [[{"accepted_answers": ["Paris"]}]]},
            {"questions": [{"prompt": "?", "parts": [{"answer": 9.81, "tolerance": 0.1}]}]},
            {"questions": [{"id": "q1", "case_sensitive": True}], "answer_indices": [1]},
        ],
    )
    def test_stored_data_of_any_shape_loses_every_key(self, data: dict[str, Any]) -> None:
        view = item_data_for(data, gradable=True, answer_keys=False)
        assert not key_names(view), view
        assert "questions" in view
