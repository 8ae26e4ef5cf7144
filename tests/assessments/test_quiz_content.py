"""Quiz content (issue 19): the `gradable` flag of content types, the built-in `quiz` type, and a valid quiz on
every write of an item of a gradable type."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.content import Classroom, make_classroom, make_content_item, make_module, root_of
from tests.fixtures.factories import auth_headers, make_member
from tests.fixtures.quiz_content import make_quiz_type, quiz
from tests.fixtures.taxonomy import make_content_type
from twosigma.config import Settings
from twosigma.content.models import ContentItem, Module
from twosigma.enums import UserRole
from twosigma.taxonomy.builtin_types import QUIZ, install_builtin_content_types
from twosigma.taxonomy.models import ContentType

API = "/api/v1"
Headers = dict[str, str]


@pytest.fixture
async def room(db: AsyncSession) -> Classroom:
    return await make_classroom(db)


@pytest.fixture
async def module(db: AsyncSession, room: Classroom) -> Module:
    return await make_module(db, parent=await root_of(db, room.course))


@pytest.fixture
def teacher(settings: Settings, room: Classroom) -> Headers:
    return auth_headers(settings, room.campus.instructor)


@pytest.fixture
async def platform_admin(db: AsyncSession, settings: Settings, room: Classroom) -> Headers:
    return auth_headers(settings, await make_member(db, room.campus.university, UserRole.PLATFORM_ADMIN))


async def stored_data(db: AsyncSession, item_id: int) -> dict[str, Any]:
    stmt = select(ContentItem.data_json).where(ContentItem.id == item_id).execution_options(populate_existing=True)
    data: dict[str, Any] = (await db.execute(stmt)).scalar_one()
    return data


class TestGradableFlag:
    async def test_it_is_read_in_the_list_and_the_single_read(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        gradable = await make_quiz_type(db)
        plain = await make_content_type(db)
        listed = (await client.get(f"{API}/content-types", params={"limit": 100})).json()["items"]
        flags = {row["id"]: row["gradable"] for row in listed}
        assert (flags[gradable.id], flags[plain.id]) == (True, False)
        assert (await client.get(f"{API}/content-types/{gradable.id}")).json()["gradable"] is True

    async def test_a_platform_admin_creates_a_gradable_type_and_the_default_is_not_gradable(
        self, client: httpx.AsyncClient, platform_admin: Headers
    ) -> None:
        made = await client.post(
            f"{API}/content-types", json={"name": "exam", "label": "Exam", "gradable": True}, headers=platform_admin
        )
        assert made.status_code == 201, made.text
        assert made.json()["gradable"] is True
        plain = await client.post(
            f"{API}/content-types", json={"name": "notes", "label": "Notes"}, headers=platform_admin
        )
        assert plain.json()["gradable"] is False

    async def test_only_a_platform_admin_sets_it(
        self, client: httpx.AsyncClient, db: AsyncSession, teacher: Headers, settings: Settings, room: Classroom
    ) -> None:
        content_type = await make_content_type(db)
        university_admin = auth_headers(settings, room.campus.admin)
        for headers in (teacher, university_admin):
            response = await client.patch(
                f"{API}/content-types/{content_type.id}", json={"gradable": True}, headers=headers
            )
            assert response.status_code == 403
        body = {"name": "exam2", "label": "Exam", "gradable": True}
        assert (await client.post(f"{API}/content-types", json=body, headers=teacher)).status_code == 403

    async def test_turning_it_on_is_allowed_with_items_and_null_is_refused(
        self, client: httpx.AsyncClient, db: AsyncSession, platform_admin: Headers, module: Module
    ) -> None:
        content_type = await make_content_type(db)
        await make_content_item(db, module=module, content_type=content_type, data_json={"old": "form"})
        url = f"{API}/content-types/{content_type.id}"
        assert (await client.patch(url, json={"gradable": None}, headers=platform_admin)).status_code == 422
        response = await client.patch(url, json={"gradable": True}, headers=platform_admin)
        assert response.status_code == 200, response.text
        assert response.json()["gradable"] is True

    async def test_turning_it_off_while_items_use_the_type_is_409(
        self, client: httpx.AsyncClient, db: AsyncSession, platform_admin: Headers, module: Module
    ) -> None:
        content_type = await make_quiz_type(db)
        await make_content_item(db, module=module, content_type=content_type, data_json=quiz())
        url = f"{API}/content-types/{content_type.id}"
        response = await client.patch(url, json={"gradable": False}, headers=platform_admin)
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "gradable_type_in_use"
        assert response.json()["error"]["details"] == {"content_item_count": 1}
        assert (await client.patch(url, json={"label": "Still gradable"}, headers=platform_admin)).status_code == 200

    async def test_turning_it_off_without_items_is_allowed(
        self, client: httpx.AsyncClient, db: AsyncSession, platform_admin: Headers
    ) -> None:
        content_type = await make_quiz_type(db)
        url = f"{API}/content-types/{content_type.id}"
        response = await client.patch(url, json={"gradable": False}, headers=platform_admin)
        assert response.status_code == 200
        assert response.json()["gradable"] is False


class TestBuiltinQuizType:
    async def quiz_types(self, db: AsyncSession) -> list[ContentType]:
        stmt = select(ContentType).where(ContentType.name == QUIZ).execution_options(populate_existing=True)
        return list((await db.scalars(stmt)).all())

    async def test_a_fresh_install_gets_an_active_gradable_quiz_type_once(self, db: AsyncSession) -> None:
        assert await install_builtin_content_types(db) is True
        assert await install_builtin_content_types(db) is False
        [installed] = await self.quiz_types(db)
        assert (installed.gradable, installed.is_active, installed.label) == (True, True, "Quiz")

    async def test_an_existing_quiz_type_that_is_not_gradable_is_marked_gradable_and_keeps_the_rest(
        self, db: AsyncSession, module: Module
    ) -> None:
        existing = await make_content_type(db, name=QUIZ, label="Our quizzes", is_active=False)
        # An item written before validation existed: the old form, with its key.
        old = {"questions": [{"prompt": "2 + 2?", "choices": ["3", "4"], "answer_index": 1}]}
        await make_content_item(db, module=module, content_type=existing, data_json=old)
        assert await install_builtin_content_types(db) is True
        [found] = await self.quiz_types(db)
        assert (found.id, found.gradable, found.is_active, found.label) == (existing.id, True, False, "Our quizzes")
        assert await install_builtin_content_types(db) is False

    async def test_a_gradable_quiz_type_is_left_alone(self, db: AsyncSession) -> None:
        await make_quiz_type(db, name=QUIZ, label="Mine", description="Kept")
        assert await install_builtin_content_types(db) is False
        [found] = await self.quiz_types(db)
        assert (found.label, found.description) == ("Mine", "Kept")


class TestValidationOnWrite:
    async def test_creating_an_item_of_a_gradable_type_stores_the_quiz_as_written(
        self, client: httpx.AsyncClient, db: AsyncSession, teacher: Headers, module: Module
    ) -> None:
        quiz_type = await make_quiz_type(db)
        body = {"content_type_id": quiz_type.id, "title": "Check", "data_json": quiz()}
        response = await client.post(f"{API}/modules/{module.id}/content-items", json=body, headers=teacher)
        assert response.status_code == 201, response.text
        assert response.json()["data_json"] == quiz()  # the editor reads it whole
        assert await stored_data(db, response.json()["id"]) == quiz()  # other keys (instructions) kept

    @pytest.mark.parametrize(
        ("question", "field"),
        [
            ({"answer_index": 7}, "answer_index"),
            ({"answer_idx": 1}, "answer_idx"),
            ({"choices": ["only one"]}, "choices"),
            ({"answer_index": True}, "answer_index"),
            ({"prompt": ""}, "prompt"),
        ],
    )
    async def test_an_invalid_question_is_422_naming_the_question_and_the_field(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        teacher: Headers,
        module: Module,
        question: dict[str, Any],
        field: str,
    ) -> None:
        quiz_type = await make_quiz_type(db)
        data = quiz()
        data["questions"][0] |= question
        body = {"content_type_id": quiz_type.id, "title": "Check", "data_json": data}
        response = await client.post(f"{API}/modules/{module.id}/content-items", json=body, headers=teacher)
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["code"] == "validation_error"
        details = [d for d in error["details"] if d.get("question_id") == "q1"]
        assert details, error
        assert details[0]["question_index"] == 0
        assert details[0]["field"] == field or details[0]["loc"][:4] == ["body", "data_json", "questions", 0]
        assert await db.scalar(select(ContentItem.id).where(ContentItem.module_id == module.id)) is None

    @pytest.mark.parametrize(
        "data",
        [
            {},
            {"questions": []},
            {"questions": [{"id": "q1", "type": "essay", "prompt": "Discuss"}]},
            quiz(pass_percent=120),
            quiz(max_attempts=0),
            quiz(show_feedback="sometimes"),
        ],
    )
    async def test_data_that_is_not_a_quiz_is_422(
        self, client: httpx.AsyncClient, db: AsyncSession, teacher: Headers, module: Module, data: dict[str, Any]
    ) -> None:
        quiz_type = await make_quiz_type(db)
        body = {"content_type_id": quiz_type.id, "title": "Check", "data_json": data}
        response = await client.post(f"{API}/modules/{module.id}/content-items", json=body, headers=teacher)
        assert response.status_code == 422, response.text
        assert response.json()["error"]["details"][0]["loc"][:2] == ["body", "data_json"]

    async def test_items_of_other_types_take_any_json_as_before(
        self, client: httpx.AsyncClient, room: Classroom, teacher: Headers, module: Module
    ) -> None:
        body = {"content_type_id": room.content_type.id, "title": "Free", "data_json": {"answer_index": "anything"}}
        response = await client.post(f"{API}/modules/{module.id}/content-items", json=body, headers=teacher)
        assert response.status_code == 201

    async def test_updating_the_quiz_is_validated(
        self, client: httpx.AsyncClient, db: AsyncSession, teacher: Headers, module: Module
    ) -> None:
        item = await make_content_item(db, module=module, content_type=await make_quiz_type(db), data_json=quiz())
        bad = quiz()
        bad["questions"][2]["tolerance"] = -1
        url = f"{API}/content-items/{item.id}"
        response = await client.patch(url, json={"data_json": bad}, headers=teacher)
        assert response.status_code == 422
        [detail] = response.json()["error"]["details"]
        assert (detail["question_id"], detail["question_index"], detail["field"]) == ("q3", 2, "tolerance")
        assert await stored_data(db, item.id) == quiz()
        good = quiz(max_attempts=None)
        response = await client.patch(url, json={"data_json": good}, headers=teacher)
        assert response.status_code == 200, response.text
        assert await stored_data(db, item.id) == good

    async def test_moving_an_item_to_a_gradable_type_validates_the_data_it_holds_or_the_new_data(
        self, client: httpx.AsyncClient, db: AsyncSession, room: Classroom, teacher: Headers, module: Module
    ) -> None:
        item = await make_content_item(db, module=module, content_type=room.content_type, data_json={"body": "text"})
        quiz_type = await make_quiz_type(db)
        url = f"{API}/content-items/{item.id}"
        refused = await client.patch(url, json={"content_type_id": quiz_type.id}, headers=teacher)
        assert refused.status_code == 422
        moved = await client.patch(url, json={"content_type_id": quiz_type.id, "data_json": quiz()}, headers=teacher)
        assert moved.status_code == 200, moved.text
        assert moved.json()["content_type_id"] == quiz_type.id

    async def test_a_stored_quiz_that_does_not_parse_can_still_be_renamed_but_not_rewritten_badly(
        self, client: httpx.AsyncClient, db: AsyncSession, teacher: Headers, module: Module
    ) -> None:
        old = {"questions": [{"prompt": "2 + 2?", "choices": ["3", "4"], "answer_index": 1}]}
        item = await make_content_item(db, module=module, content_type=await make_quiz_type(db), data_json=old)
        url = f"{API}/content-items/{item.id}"
        assert (await client.patch(url, json={"title": "Renamed"}, headers=teacher)).status_code == 200
        assert (await client.patch(url, json={"data_json": old}, headers=teacher)).status_code == 422
