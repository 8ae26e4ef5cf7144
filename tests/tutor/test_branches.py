"""Edit, regenerate and activate: messages form a tree, a session has one active path, and the model is sent that
path only (asserted on the fake provider's recorded request bodies)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fakes import FakeAnthropic
from tests.fixtures.factories import auth_headers, make_user
from tests.fixtures.tutor import API, SSE, Lesson, make_lesson, parse_sse
from twosigma.config import Settings
from twosigma.enrollments.models import CourseEnrollment
from twosigma.enums import EnrollmentStatus
from twosigma.privacy import service as privacy_service
from twosigma.tutor.models import ChatMessage

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


async def say(
    client: httpx.AsyncClient, headers: Headers, chat_id: int, text: str, fake: FakeAnthropic, reply: str
) -> dict[str, Any]:
    fake.script(deltas=(reply,))
    response = await client.post(f"{API}/chat/sessions/{chat_id}/messages", json={"content": text}, headers=headers)
    assert response.status_code == 200, response.text
    turn: dict[str, Any] = response.json()
    return turn


def sent(fake: FakeAnthropic) -> list[tuple[str, str]]:
    return [(m["role"], m["content"]) for m in fake.last_request.json()["messages"]]


async def path(client: httpx.AsyncClient, headers: Headers, chat_id: int) -> list[dict[str, Any]]:
    response = await client.get(f"{API}/chat/sessions/{chat_id}/messages", headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items[::-1]  # oldest first


def contents(messages: list[dict[str, Any]]) -> list[str]:
    return [m["content"] for m in messages]


async def stored(db: AsyncSession, chat_id: int) -> list[ChatMessage]:
    stmt = select(ChatMessage).where(ChatMessage.session_id == chat_id).order_by(ChatMessage.id)
    return list((await db.scalars(stmt.execution_options(populate_existing=True))).all())


@pytest.fixture
async def conversation(
    client: httpx.AsyncClient, headers: Headers, lesson: Lesson, anthropic: FakeAnthropic
) -> tuple[int, dict[str, Any], dict[str, Any]]:
    """A chat of two turns: Q1 → A1 → Q2 → A2."""
    chat_id = await open_chat(client, headers, lesson)
    first = await say(client, headers, chat_id, "Q1", anthropic, "A1")
    second = await say(client, headers, chat_id, "Q2", anthropic, "A2")
    return chat_id, first, second


class TestEdit:
    async def test_an_edit_starts_a_branch_the_model_sees_only_the_active_path_and_the_old_branch_stays(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        headers: Headers,
        anthropic: FakeAnthropic,
        conversation: tuple[int, dict[str, Any], dict[str, Any]],
    ) -> None:
        chat_id, first, second = conversation
        q2 = second["user_message"]
        anthropic.script(deltas=("A2 edited",))
        response = await client.post(f"{API}/chat/messages/{q2['id']}/edit", json={"content": "Q2'"}, headers=headers)
        assert response.status_code == 200, response.text
        turn = response.json()
        edited = turn["user_message"]
        assert edited["content"] == "Q2'"
        assert edited["parent_message_id"] == q2["parent_message_id"] == first["assistant_message"]["id"]
        assert turn["assistant_message"]["parent_message_id"] == edited["id"]
        # Exactly the active path: Q2 and A2 are not sent.
        assert sent(anthropic) == [("user", "Q1"), ("assistant", "A1"), ("user", "Q2'")]

        messages = await path(client, headers, chat_id)
        assert contents(messages) == ["Q1", "A1", "Q2'", "A2 edited"]
        assert messages[2]["sibling_ids"] == [q2["id"], edited["id"]]
        assert messages[0]["sibling_ids"] == [messages[0]["id"]]
        assert messages[3]["sibling_ids"] == [turn["assistant_message"]["id"]]
        # Nothing was deleted: the first branch is intact.
        rows = await stored(db, chat_id)
        assert [r.content for r in rows] == ["Q1", "A1", "Q2", "A2", "Q2'", "A2 edited"]
        by_content = {r.content: r for r in rows}
        assert by_content["A2"].parent_message_id == by_content["Q2"].id

    async def test_the_next_message_continues_the_edited_branch(
        self,
        client: httpx.AsyncClient,
        headers: Headers,
        anthropic: FakeAnthropic,
        conversation: tuple[int, dict[str, Any], dict[str, Any]],
    ) -> None:
        chat_id, first, _ = conversation
        q1 = first["user_message"]
        anthropic.script(deltas=("A1'",))
        edit = await client.post(f"{API}/chat/messages/{q1['id']}/edit", json={"content": "Q1'"}, headers=headers)
        assert edit.status_code == 200, edit.text
        assert edit.json()["user_message"]["parent_message_id"] is None  # a new root
        assert sent(anthropic) == [("user", "Q1'")]
        await say(client, headers, chat_id, "Q3", anthropic, "A3")
        assert sent(anthropic) == [("user", "Q1'"), ("assistant", "A1'"), ("user", "Q3")]
        messages = await path(client, headers, chat_id)
        assert contents(messages) == ["Q1'", "A1'", "Q3", "A3"]
        assert messages[0]["sibling_ids"] == [q1["id"], edit.json()["user_message"]["id"]]

    async def test_an_edit_streams_like_a_send(
        self,
        client: httpx.AsyncClient,
        headers: Headers,
        anthropic: FakeAnthropic,
        conversation: tuple[int, dict[str, Any], dict[str, Any]],
    ) -> None:
        _, _, second = conversation
        anthropic.script(deltas=("Stream", "ed"))
        response = await client.post(
            f"{API}/chat/messages/{second['user_message']['id']}/edit",
            json={"content": "Q2 streamed"},
            headers=headers | SSE,
        )
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = parse_sse(response.text)
        assert [name for name, _ in events] == ["message.created", "delta", "delta", "message.completed"]
        created, completed = events[0][1], events[-1][1]
        assert created["content"] == "Q2 streamed"
        assert created["parent_message_id"] == second["user_message"]["parent_message_id"]
        assert completed["content"] == "Streamed"
        assert completed["parent_message_id"] == created["id"]

    async def test_editing_a_reply_is_refused_and_the_content_is_validated(
        self,
        client: httpx.AsyncClient,
        headers: Headers,
        anthropic: FakeAnthropic,
        conversation: tuple[int, dict[str, Any], dict[str, Any]],
    ) -> None:
        _, first, _ = conversation
        before = len(anthropic.requests)
        reply = first["assistant_message"]["id"]
        refused = await client.post(f"{API}/chat/messages/{reply}/edit", json={"content": "x"}, headers=headers)
        assert refused.status_code == 422
        assert refused.json()["error"]["code"] == "not_a_user_message"
        empty = await client.post(
            f"{API}/chat/messages/{first['user_message']['id']}/edit", json={"content": ""}, headers=headers
        )
        assert empty.status_code == 422
        assert len(anthropic.requests) == before


class TestRegenerate:
    async def test_regenerating_answers_the_same_user_message_again_as_a_sibling(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        headers: Headers,
        anthropic: FakeAnthropic,
        conversation: tuple[int, dict[str, Any], dict[str, Any]],
    ) -> None:
        chat_id, first, _ = conversation
        a1 = first["assistant_message"]
        anthropic.script(deltas=("A1 again",))
        response = await client.post(f"{API}/chat/messages/{a1['id']}/regenerate", headers=headers)
        assert response.status_code == 200, response.text
        turn = response.json()
        assert turn["user_message"]["id"] == first["user_message"]["id"]
        again = turn["assistant_message"]
        assert again["parent_message_id"] == a1["parent_message_id"] == first["user_message"]["id"]
        # The model gets the path up to the user message it answers: not A1, not the later turn.
        assert sent(anthropic) == [("user", "Q1")]
        messages = await path(client, headers, chat_id)
        assert contents(messages) == ["Q1", "A1 again"]
        assert messages[1]["sibling_ids"] == [a1["id"], again["id"]]
        assert len(await stored(db, chat_id)) == 5  # Q1 A1 Q2 A2 and the new reply: nothing deleted

    async def test_regenerate_streams_like_a_retry(
        self,
        client: httpx.AsyncClient,
        headers: Headers,
        anthropic: FakeAnthropic,
        conversation: tuple[int, dict[str, Any], dict[str, Any]],
    ) -> None:
        _, _, second = conversation
        anthropic.script(deltas=("A2", " again"))
        response = await client.post(
            f"{API}/chat/messages/{second['assistant_message']['id']}/regenerate", headers=headers | SSE
        )
        assert response.status_code == 200
        events = parse_sse(response.text)
        assert [name for name, _ in events] == ["delta", "delta", "message.completed"]
        assert events[-1][1]["content"] == "A2 again"
        assert events[-1][1]["parent_message_id"] == second["user_message"]["id"]
        assert sent(anthropic) == [("user", "Q1"), ("assistant", "A1"), ("user", "Q2")]

    async def test_regenerating_a_user_message_is_refused(
        self,
        client: httpx.AsyncClient,
        headers: Headers,
        anthropic: FakeAnthropic,
        conversation: tuple[int, dict[str, Any], dict[str, Any]],
    ) -> None:
        _, first, _ = conversation
        before = len(anthropic.requests)
        refused = await client.post(f"{API}/chat/messages/{first['user_message']['id']}/regenerate", headers=headers)
        assert refused.status_code == 422
        assert refused.json()["error"]["code"] == "not_an_assistant_message"
        assert len(anthropic.requests) == before


class TestActivate:
    async def test_activate_switches_the_path_to_the_newest_continuation_of_a_branch(
        self,
        client: httpx.AsyncClient,
        headers: Headers,
        anthropic: FakeAnthropic,
        conversation: tuple[int, dict[str, Any], dict[str, Any]],
    ) -> None:
        chat_id, first, second = conversation
        q1 = first["user_message"]
        anthropic.script(deltas=("B1",))
        branch = (
            await client.post(f"{API}/chat/messages/{q1['id']}/edit", json={"content": "P1"}, headers=headers)
        ).json()
        assert contents(await path(client, headers, chat_id)) == ["P1", "B1"]

        # Back to the first branch through its root: down to its newest continuation, A2.
        response = await client.post(f"{API}/chat/messages/{q1['id']}/activate", headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()["items"][::-1]
        assert contents(page) == ["Q1", "A1", "Q2", "A2"]
        assert page[0]["sibling_ids"] == [q1["id"], branch["user_message"]["id"]]
        assert contents(await path(client, headers, chat_id)) == ["Q1", "A1", "Q2", "A2"]

        # The model follows: the next message continues A2.
        await say(client, headers, chat_id, "Q3", anthropic, "A3")
        assert sent(anthropic) == [
            ("user", "Q1"),
            ("assistant", "A1"),
            ("user", "Q2"),
            ("assistant", "A2"),
            ("user", "Q3"),
        ]

        # Activating a message in the middle of a path ends the path at that message's newest continuation.
        a1_again = (
            await client.post(f"{API}/chat/messages/{first['assistant_message']['id']}/regenerate", headers=headers)
        ).json()["assistant_message"]
        assert contents(await path(client, headers, chat_id)) == ["Q1", a1_again["content"]]
        response = await client.post(f"{API}/chat/messages/{second['user_message']['id']}/activate", headers=headers)
        assert contents(response.json()["items"][::-1]) == ["Q1", "A1", "Q2", "A2", "Q3", "A3"]

    async def test_pages_of_the_active_path_follow_the_cursor_up_the_path(
        self,
        client: httpx.AsyncClient,
        headers: Headers,
        anthropic: FakeAnthropic,
        conversation: tuple[int, dict[str, Any], dict[str, Any]],
    ) -> None:
        chat_id, first, second = conversation
        anthropic.script(deltas=("A2'",))
        await client.post(
            f"{API}/chat/messages/{second['user_message']['id']}/edit", json={"content": "Q2'"}, headers=headers
        )
        one = await client.get(f"{API}/chat/sessions/{chat_id}/messages?limit=3", headers=headers)
        assert [m["content"] for m in one.json()["items"]] == ["A2'", "Q2'", "A1"]
        cursor = one.json()["next_before"]
        assert cursor == first["assistant_message"]["id"]
        two = await client.get(f"{API}/chat/sessions/{chat_id}/messages?limit=3&before={cursor}", headers=headers)
        assert [m["content"] for m in two.json()["items"]] == ["Q1"]
        assert two.json()["next_before"] is None


class TestRetryAndBudgetOnBranches:
    async def test_retry_answers_the_last_user_message_of_the_active_path(
        self,
        client: httpx.AsyncClient,
        headers: Headers,
        anthropic: FakeAnthropic,
        conversation: tuple[int, dict[str, Any], dict[str, Any]],
    ) -> None:
        chat_id, first, _ = conversation
        anthropic.script(deltas=("B1",))
        branch = (
            await client.post(
                f"{API}/chat/messages/{first['user_message']['id']}/edit", json={"content": "P1"}, headers=headers
            )
        ).json()
        anthropic.script(deltas=("B1 again",))
        retry = await client.post(f"{API}/chat/sessions/{chat_id}/retry", headers=headers)
        assert retry.status_code == 200, retry.text
        assert retry.json()["user_message"]["id"] == branch["user_message"]["id"]  # not Q2, the newest user message
        assert retry.json()["assistant_message"]["parent_message_id"] == branch["user_message"]["id"]
        assert sent(anthropic) == [("user", "P1")]
        messages = await path(client, headers, chat_id)
        assert contents(messages) == ["P1", "B1 again"]
        assert messages[1]["sibling_ids"] == [
            branch["assistant_message"]["id"],
            retry.json()["assistant_message"]["id"],
        ]

    async def test_a_failed_reply_on_a_branch_is_retried_beside_it(
        self,
        client: httpx.AsyncClient,
        headers: Headers,
        anthropic: FakeAnthropic,
        conversation: tuple[int, dict[str, Any], dict[str, Any]],
    ) -> None:
        chat_id, _, second = conversation
        anthropic.script(mode="error", status=500)
        failed = await client.post(
            f"{API}/chat/messages/{second['user_message']['id']}/edit", json={"content": "Q2'"}, headers=headers
        )
        assert failed.status_code == 502
        anthropic.script(mode="normal", deltas=("A2'",))
        retry = await client.post(f"{API}/chat/sessions/{chat_id}/retry", headers=headers)
        assert retry.status_code == 200, retry.text
        assert retry.json()["user_message"]["content"] == "Q2'"
        assert sent(anthropic) == [("user", "Q1"), ("assistant", "A1"), ("user", "Q2'")]
        assert contents(await path(client, headers, chat_id)) == ["Q1", "A1", "Q2'", "A2'"]

    async def test_the_token_budget_counts_every_branch(
        self,
        client: httpx.AsyncClient,
        headers: Headers,
        anthropic: FakeAnthropic,
        monkeypatch: pytest.MonkeyPatch,
        lesson: Lesson,
    ) -> None:
        # The fake's usage: 42 + 7 = 49 tokens a reply. Set before the app's first request reads the settings.
        monkeypatch.setenv("TWOSIGMA_TUTOR_TOKENS_PER_DAY", "90")
        chat_id = await open_chat(client, headers, lesson)
        turn = await say(client, headers, chat_id, "Q1", anthropic, "A1")
        again = await client.post(f"{API}/chat/messages/{turn['assistant_message']['id']}/regenerate", headers=headers)
        assert again.status_code == 200  # 98 used, A1 now on an inactive branch
        refused = await client.post(
            f"{API}/chat/messages/{turn['user_message']['id']}/edit", json={"content": "Q1'"}, headers=headers
        )
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "tutor_token_limit"
        details = refused.json()["error"]["details"]
        assert (details["limit"], details["used"], details["time_zone"]) == (90, 98, "UTC")


class TestAccess:
    async def test_another_users_message_is_a_404_on_every_branch_route(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        anthropic: FakeAnthropic,
        conversation: tuple[int, dict[str, Any], dict[str, Any]],
    ) -> None:
        _, first, _ = conversation
        other = auth_headers(settings, await make_user(db))
        q1, a1 = first["user_message"]["id"], first["assistant_message"]["id"]
        for url, body in [
            (f"{API}/chat/messages/{q1}/edit", {"content": "mine now"}),
            (f"{API}/chat/messages/{a1}/regenerate", None),
            (f"{API}/chat/messages/{a1}/activate", None),
        ]:
            response = await client.post(url, json=body, headers=other)
            assert response.status_code == 404, url
            assert response.json()["error"]["code"] == "message_not_found"

    async def test_edit_and_regenerate_need_the_tutor_now_activate_does_not(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        headers: Headers,
        lesson: Lesson,
        anthropic: FakeAnthropic,
        conversation: tuple[int, dict[str, Any], dict[str, Any]],
    ) -> None:
        chat_id, first, _ = conversation
        await db.execute(
            update(CourseEnrollment)
            .where(
                CourseEnrollment.user_id == lesson.student.id,
                CourseEnrollment.course_offering_id == lesson.classroom.campus.offering.id,
            )
            .values(status=EnrollmentStatus.DROPPED)
        )
        before = len(anthropic.requests)
        for url, body in [
            (f"{API}/chat/messages/{first['user_message']['id']}/edit", {"content": "Q1'"}),
            (f"{API}/chat/messages/{first['assistant_message']['id']}/regenerate", None),
        ]:
            response = await client.post(url, json=body, headers=headers)
            assert response.status_code == 403, url
            assert response.json()["error"]["code"] == "content_access_lost"
        assert len(anthropic.requests) == before
        activated = await client.post(f"{API}/chat/messages/{first['user_message']['id']}/activate", headers=headers)
        assert activated.status_code == 200
        assert contents(activated.json()["items"][::-1]) == ["Q1", "A1", "Q2", "A2"]
        assert (await client.get(f"{API}/chat/sessions/{chat_id}/messages", headers=headers)).status_code == 200


class TestSharing:
    async def test_the_shared_view_shows_the_active_path(
        self,
        client: httpx.AsyncClient,
        headers: Headers,
        anthropic: FakeAnthropic,
        conversation: tuple[int, dict[str, Any], dict[str, Any]],
    ) -> None:
        chat_id, _, second = conversation
        anthropic.script(deltas=("A2'",))
        await client.post(
            f"{API}/chat/messages/{second['user_message']['id']}/edit", json={"content": "Q2'"}, headers=headers
        )
        token = (await client.post(f"{API}/chat/sessions/{chat_id}/share", headers=headers)).json()["share_token"]
        view = await client.get(f"{API}/shared/chats/{token}")
        assert [(m["role"], m["content"]) for m in view.json()["messages"]] == [
            ("USER", "Q1"),
            ("ASSISTANT", "A1"),
            ("USER", "Q2'"),
            ("ASSISTANT", "A2'"),
        ]
        page = await client.get(f"{API}/shared/chats/{token}?limit=2")
        assert [m["content"] for m in page.json()["messages"]] == ["Q1", "A1"]
        rest = await client.get(f"{API}/shared/chats/{token}?limit=2&after={page.json()['next_after']}")
        assert [m["content"] for m in rest.json()["messages"]] == ["Q2'", "A2'"]


class TestExport:
    async def test_the_export_holds_every_branch_with_its_parent(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        headers: Headers,
        lesson: Lesson,
        anthropic: FakeAnthropic,
        conversation: tuple[int, dict[str, Any], dict[str, Any]],
    ) -> None:
        chat_id, _, second = conversation
        anthropic.script(deltas=("A2'",))
        edit = await client.post(
            f"{API}/chat/messages/{second['user_message']['id']}/edit", json={"content": "Q2'"}, headers=headers
        )
        files = await privacy_service.collect(db, lesson.student.id)
        [chat] = [c for c in files["chats.json"] if c["id"] == chat_id]
        exported = {m["content"]: m["parent_message_id"] for m in chat["messages"]}
        assert set(exported) == {"Q1", "A1", "Q2", "A2", "Q2'", "A2'"}
        assert exported["Q2"] == exported["Q2'"] == first_reply_id(chat)
        assert chat["active_leaf_message_id"] == edit.json()["assistant_message"]["id"]
        session_read = await client.get(f"{API}/chat/sessions/{chat_id}", headers=headers)
        assert session_read.json()["active_leaf_message_id"] == edit.json()["assistant_message"]["id"]


def first_reply_id(chat: dict[str, Any]) -> int:
    reply: int = next(m["id"] for m in chat["messages"] if m["content"] == "A1")
    return reply
