"""Chat sessions: create with a content snapshot, list, read, delete; message history by cursor; ownership."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.content import make_content_item, make_module, root_of
from tests.fixtures.factories import auth_headers, make_member, make_university
from tests.fixtures.tutor import API, Lesson, add_messages, make_chat, make_lesson
from twosigma.config import Settings
from twosigma.enums import UserRole

Headers = dict[str, str]


@pytest.fixture
async def lesson(db: AsyncSession) -> Lesson:
    return await make_lesson(db)


@pytest.fixture
def headers(settings: Settings, lesson: Lesson) -> Headers:
    return auth_headers(settings, lesson.student)


class TestCreate:
    async def test_the_context_snapshots_item_module_and_course(
        self, client: httpx.AsyncClient, db: AsyncSession, headers: Headers, lesson: Lesson
    ) -> None:
        response = await client.post(f"{API}/chat/sessions", json={"content_item_id": lesson.item.id}, headers=headers)
        assert response.status_code == 201, response.text
        body = response.json()
        course = lesson.classroom.course
        assert body["content_item_id"] == lesson.item.id
        assert body["content_context"] == {
            "content_item": {
                "id": lesson.item.id,
                "title": "The chain rule",
                "description": "Differentiating compositions of functions.",
                "content_type": lesson.classroom.content_type.name,
                "gradable": False,
                "data_json": {"example": "d/dx sin(x^2)"},
                "learning_objectives": ["Apply the chain rule", "Spot inner and outer functions"],
            },
            "module": {"id": lesson.item.module_id, "title": "Derivatives"},
            "course": {"id": course.id, "title": course.title, "code": course.code},
        }
        assert body["share_enabled"] is False

    async def test_later_edits_of_the_item_do_not_change_the_snapshot(
        self, client: httpx.AsyncClient, db: AsyncSession, headers: Headers, lesson: Lesson
    ) -> None:
        created = await client.post(f"{API}/chat/sessions", json={"content_item_id": lesson.item.id}, headers=headers)
        lesson.item.title = "Renamed"
        await db.flush()
        again = await client.get(f"{API}/chat/sessions/{created.json()['id']}", headers=headers)
        assert again.json()["content_context"]["content_item"]["title"] == "The chain rule"

    async def test_a_session_without_an_item_has_an_empty_context(
        self, client: httpx.AsyncClient, headers: Headers
    ) -> None:
        response = await client.post(f"{API}/chat/sessions", json={}, headers=headers)
        assert response.status_code == 201
        assert response.json()["content_context"] == {}

    async def test_an_item_the_caller_cannot_read_is_404(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, lesson: Lesson
    ) -> None:
        outsider = await make_member(db, await make_university(db), UserRole.STUDENT)
        response = await client.post(
            f"{API}/chat/sessions",
            json={"content_item_id": lesson.item.id},
            headers=auth_headers(settings, outsider),
        )
        assert response.status_code == 404

    async def test_an_unenrolled_student_of_the_same_university_gets_404(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, lesson: Lesson
    ) -> None:
        student = lesson.classroom.campus.student  # a member, not enrolled
        response = await client.post(
            f"{API}/chat/sessions", json={"content_item_id": lesson.item.id}, headers=auth_headers(settings, student)
        )
        assert response.status_code == 404

    async def test_an_item_in_an_unpublished_module_is_404_for_a_student(
        self, client: httpx.AsyncClient, db: AsyncSession, headers: Headers, lesson: Lesson
    ) -> None:
        hidden = await make_module(db, parent=await root_of(db, lesson.classroom.course), is_published=False)
        item = await make_content_item(db, module=hidden, content_type=lesson.classroom.content_type)
        response = await client.post(f"{API}/chat/sessions", json={"content_item_id": item.id}, headers=headers)
        assert response.status_code == 404

    async def test_staff_may_chat_about_their_courses_items(
        self, client: httpx.AsyncClient, settings: Settings, lesson: Lesson
    ) -> None:
        headers = auth_headers(settings, lesson.classroom.campus.instructor)
        response = await client.post(f"{API}/chat/sessions", json={"content_item_id": lesson.item.id}, headers=headers)
        assert response.status_code == 201

    @pytest.mark.parametrize("body", [{"content_item_id": "x"}, {"content_item_id": 0}, {"unknown": 1}])
    async def test_bad_bodies_are_422(self, client: httpx.AsyncClient, headers: Headers, body: object) -> None:
        response = await client.post(f"{API}/chat/sessions", json=body, headers=headers)
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "validation_error"


class TestListReadDelete:
    async def test_the_list_holds_only_the_callers_sessions_and_filters_by_item(
        self, client: httpx.AsyncClient, db: AsyncSession, headers: Headers, lesson: Lesson
    ) -> None:
        mine = await make_chat(db, lesson.student, content_item_id=lesson.item.id)
        other_item = await make_chat(db, lesson.student)
        await make_chat(db, lesson.classroom.campus.student, content_item_id=lesson.item.id)
        everything = await client.get(f"{API}/chat/sessions", headers=headers)
        assert everything.status_code == 200
        assert {s["id"] for s in everything.json()["items"]} == {mine.id, other_item.id}
        assert everything.json()["total"] == 2
        filtered = await client.get(f"{API}/chat/sessions?content_item_id={lesson.item.id}", headers=headers)
        assert [s["id"] for s in filtered.json()["items"]] == [mine.id]

    async def test_the_list_is_paginated(
        self, client: httpx.AsyncClient, db: AsyncSession, headers: Headers, lesson: Lesson
    ) -> None:
        for _ in range(3):
            await make_chat(db, lesson.student)
        page = (await client.get(f"{API}/chat/sessions?limit=2&page=2", headers=headers)).json()
        assert (len(page["items"]), page["total"], page["pages"]) == (1, 3, 2)

    async def test_delete_removes_the_session_and_its_messages(
        self, client: httpx.AsyncClient, db: AsyncSession, headers: Headers, lesson: Lesson
    ) -> None:
        chat = await make_chat(db, lesson.student)
        await add_messages(db, chat, 3)
        response = await client.delete(f"{API}/chat/sessions/{chat.id}", headers=headers)
        assert response.status_code == 204
        assert (await client.get(f"{API}/chat/sessions/{chat.id}", headers=headers)).status_code == 404


class TestMessagesCursor:
    async def test_pages_run_newest_first_and_the_cursor_walks_back_to_the_first_message(
        self, client: httpx.AsyncClient, db: AsyncSession, headers: Headers, lesson: Lesson
    ) -> None:
        chat = await make_chat(db, lesson.student)
        await add_messages(db, chat, 5)
        url = f"{API}/chat/sessions/{chat.id}/messages?limit=2"
        first = (await client.get(url, headers=headers)).json()
        assert [m["content"] for m in first["items"]] == ["message 4", "message 3"]
        second = (await client.get(f"{url}&before={first['next_before']}", headers=headers)).json()
        assert [m["content"] for m in second["items"]] == ["message 2", "message 1"]
        last = (await client.get(f"{url}&before={second['next_before']}", headers=headers)).json()
        assert [m["content"] for m in last["items"]] == ["message 0"]
        assert last["next_before"] is None

    @pytest.mark.parametrize("query", ["limit=0", "limit=101", "before=0", "before=abc"])
    async def test_bad_cursor_parameters_are_422(
        self, client: httpx.AsyncClient, db: AsyncSession, headers: Headers, lesson: Lesson, query: str
    ) -> None:
        chat = await make_chat(db, lesson.student)
        response = await client.get(f"{API}/chat/sessions/{chat.id}/messages?{query}", headers=headers)
        assert response.status_code == 422


ROUTES = [
    ("GET", "/chat/sessions/{id}", None),
    ("DELETE", "/chat/sessions/{id}", None),
    ("GET", "/chat/sessions/{id}/messages", None),
    ("POST", "/chat/sessions/{id}/messages", {"content": "hi"}),
    ("POST", "/chat/sessions/{id}/retry", None),
    ("POST", "/chat/sessions/{id}/share", None),
    ("DELETE", "/chat/sessions/{id}/share", None),
    ("GET", "/chat/sessions/{id}/notes", None),
    ("POST", "/chat/sessions/{id}/notes", {"content": "note"}),
]

ALL_ROUTES = [
    ("POST", "/chat/sessions"),
    ("GET", "/chat/sessions"),
    *[(m, p) for m, p, _ in ROUTES],
    ("PATCH", "/chat/notes/1"),
    ("DELETE", "/chat/notes/1"),
    ("POST", "/chat/messages/1/feedback"),
]


class TestOwnership:
    @pytest.mark.parametrize(("method", "path", "body"), ROUTES)
    async def test_another_users_session_is_404_on_every_route(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        lesson: Lesson,
        method: str,
        path: str,
        body: object,
    ) -> None:
        chat = await make_chat(db, lesson.student)
        await add_messages(db, chat, 2)
        intruder = auth_headers(settings, lesson.classroom.campus.admin)
        response = await client.request(method, API + path.format(id=chat.id), json=body, headers=intruder)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "chat_session_not_found"

    @pytest.mark.parametrize(("method", "path"), ALL_ROUTES)
    async def test_every_route_needs_a_token(self, client: httpx.AsyncClient, method: str, path: str) -> None:
        response = await client.request(method, API + path.format(id=1), json={})
        assert response.status_code == 401

    async def test_an_invalid_token_is_401(self, client: httpx.AsyncClient) -> None:
        response = await client.get(f"{API}/chat/sessions", headers={"Authorization": "Bearer nope"})
        assert response.status_code == 401
