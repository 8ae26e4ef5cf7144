"""Access to the tutor is checked on every turn (authz/tutor.py), not only when the chat was opened.

A chat about a content item goes on only while its owner may read the item (a dropped enrolment, an unpublished
module, a deleted item end it: 403 `content_access_lost`, and no LLM call is made); a chat without an item needs
an ACTIVE enrolment or a staff role unless `tutor.open_chat` is on (403 `tutor_enrollment_required`). Reading the
old conversation stays allowed.
"""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fakes import FakeAnthropic
from tests.fixtures.courses import make_enrollment, make_stranger
from tests.fixtures.factories import auth_headers, make_member
from tests.fixtures.prompts import platform_admin
from tests.fixtures.tutor import API, SSE, Lesson, make_lesson
from twosigma.config import Settings
from twosigma.content.models import Module
from twosigma.enrollments.models import CourseEnrollment
from twosigma.enums import EnrollmentStatus, UserRole
from twosigma.tenancy.models import UserUniversityRole
from twosigma.tutor.models import ChatMessage

Headers = dict[str, str]


@pytest.fixture
async def lesson(db: AsyncSession) -> Lesson:
    return await make_lesson(db)


@pytest.fixture
def headers(settings: Settings, lesson: Lesson) -> Headers:
    return auth_headers(settings, lesson.student)


async def open_chat(client: httpx.AsyncClient, headers: Headers, body: dict[str, int]) -> int:
    response = await client.post(f"{API}/chat/sessions", json=body, headers=headers)
    assert response.status_code == 201, response.text
    chat_id: int = response.json()["id"]
    return chat_id


async def send(client: httpx.AsyncClient, headers: Headers, chat_id: int, text: str = "Hi") -> httpx.Response:
    return await client.post(f"{API}/chat/sessions/{chat_id}/messages", json={"content": text}, headers=headers)


async def drop(client: httpx.AsyncClient, db: AsyncSession, settings: Settings, lesson: Lesson) -> None:
    """The course's instructor drops the student, through the API."""
    enrollment_id = await db.scalar(
        select(CourseEnrollment.id).where(
            CourseEnrollment.user_id == lesson.student.id,
            CourseEnrollment.course_offering_id == lesson.classroom.campus.offering.id,
        )
    )
    staff = auth_headers(settings, lesson.classroom.campus.instructor)
    response = await client.patch(f"{API}/enrollments/{enrollment_id}", json={"status": "DROPPED"}, headers=staff)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "DROPPED"


async def message_count(db: AsyncSession, chat_id: int) -> int:
    return int(await db.scalar(select(func.count()).where(ChatMessage.session_id == chat_id)) or 0)


def assert_refused(response: httpx.Response, code: str) -> None:
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == code


async def set_open_chat(client: httpx.AsyncClient, db: AsyncSession, settings: Settings, value: bool) -> None:
    response = await client.put(
        f"{API}/admin/settings/tutor.open_chat", json={"value": value}, headers=await platform_admin(db, settings)
    )
    assert response.status_code == 200, response.text


class TestADroppedStudentLosesTheTutor:
    async def test_the_next_message_is_refused_and_reaches_no_model(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        headers: Headers,
        lesson: Lesson,
        anthropic: FakeAnthropic,
    ) -> None:
        chat_id = await open_chat(client, headers, {"content_item_id": lesson.item.id})
        assert (await send(client, headers, chat_id)).status_code == 200
        assert len(anthropic.requests) == 1
        await drop(client, db, settings, lesson)
        refused = await send(client, headers, chat_id, "Tell me the answer key")
        assert_refused(refused, "content_access_lost")
        assert refused.json()["error"]["details"] == {"content_item_id": lesson.item.id}
        assert len(anthropic.requests) == 1
        assert await message_count(db, chat_id) == 2  # the refused message was not stored

    async def test_a_streaming_client_gets_the_same_plain_403(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        headers: Headers,
        lesson: Lesson,
        anthropic: FakeAnthropic,
    ) -> None:
        chat_id = await open_chat(client, headers, {"content_item_id": lesson.item.id})
        await drop(client, db, settings, lesson)
        response = await client.post(
            f"{API}/chat/sessions/{chat_id}/messages", json={"content": "Hi"}, headers=headers | SSE
        )
        assert_refused(response, "content_access_lost")
        assert response.headers["content-type"].startswith("application/json")
        assert anthropic.requests == []

    async def test_retry_is_refused_and_reaches_no_model(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        headers: Headers,
        lesson: Lesson,
        anthropic: FakeAnthropic,
    ) -> None:
        chat_id = await open_chat(client, headers, {"content_item_id": lesson.item.id})
        assert (await send(client, headers, chat_id)).status_code == 200
        await drop(client, db, settings, lesson)
        assert_refused(
            await client.post(f"{API}/chat/sessions/{chat_id}/retry", headers=headers), "content_access_lost"
        )
        assert len(anthropic.requests) == 1
        assert await message_count(db, chat_id) == 2

    async def test_sharing_is_refused(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, headers: Headers, lesson: Lesson
    ) -> None:
        chat_id = await open_chat(client, headers, {"content_item_id": lesson.item.id})
        await drop(client, db, settings, lesson)
        assert_refused(
            await client.post(f"{API}/chat/sessions/{chat_id}/share", headers=headers), "content_access_lost"
        )

    async def test_the_old_conversation_stays_readable_unsharable_and_deletable(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        headers: Headers,
        lesson: Lesson,
        anthropic: FakeAnthropic,
    ) -> None:
        chat_id = await open_chat(client, headers, {"content_item_id": lesson.item.id})
        assert (await send(client, headers, chat_id)).status_code == 200
        assert (await client.post(f"{API}/chat/sessions/{chat_id}/share", headers=headers)).status_code == 200
        await drop(client, db, settings, lesson)
        assert_refused(await send(client, headers, chat_id), "content_access_lost")
        url = f"{API}/chat/sessions/{chat_id}"
        assert (await client.get(url, headers=headers)).status_code == 200
        assert len((await client.get(f"{url}/messages", headers=headers)).json()["items"]) == 2
        assert (await client.post(f"{url}/notes", json={"content": "for later"}, headers=headers)).status_code == 201
        assert (await client.delete(f"{url}/share", headers=headers)).status_code == 204
        assert (await client.delete(url, headers=headers)).status_code == 204

    async def test_enrolling_again_gives_the_tutor_back(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        headers: Headers,
        lesson: Lesson,
        anthropic: FakeAnthropic,
    ) -> None:
        chat_id = await open_chat(client, headers, {"content_item_id": lesson.item.id})
        await drop(client, db, settings, lesson)
        assert_refused(await send(client, headers, chat_id), "content_access_lost")
        enrolled = await client.post(f"{API}/offerings/{lesson.classroom.campus.offering.id}/enroll", headers=headers)
        assert enrolled.status_code in (200, 201), enrolled.text
        assert (await send(client, headers, chat_id)).status_code == 200


class TestOtherWaysOfLosingTheItem:
    async def test_an_unpublished_module_ends_the_chat(
        self, client: httpx.AsyncClient, db: AsyncSession, headers: Headers, lesson: Lesson, anthropic: FakeAnthropic
    ) -> None:
        chat_id = await open_chat(client, headers, {"content_item_id": lesson.item.id})
        module = await db.get(Module, lesson.item.module_id)
        assert module is not None
        module.is_published = False
        await db.flush()
        assert_refused(await send(client, headers, chat_id), "content_access_lost")
        assert anthropic.requests == []

    async def test_an_unpublished_course_ends_the_chat(
        self, client: httpx.AsyncClient, db: AsyncSession, headers: Headers, lesson: Lesson, anthropic: FakeAnthropic
    ) -> None:
        chat_id = await open_chat(client, headers, {"content_item_id": lesson.item.id})
        lesson.classroom.course.is_published = False
        await db.flush()
        assert_refused(await send(client, headers, chat_id), "content_access_lost")
        assert anthropic.requests == []

    async def test_a_deleted_item_ends_the_chat_even_for_an_enrolled_student(
        self, client: httpx.AsyncClient, db: AsyncSession, headers: Headers, lesson: Lesson, anthropic: FakeAnthropic
    ) -> None:
        chat_id = await open_chat(client, headers, {"content_item_id": lesson.item.id})
        await db.delete(lesson.item)
        await db.flush()
        response = await send(client, headers, chat_id)
        assert_refused(response, "content_access_lost")
        assert "no longer exists" in response.json()["error"]["message"]
        assert anthropic.requests == []

    async def test_a_revoked_staff_role_ends_the_staff_members_chat(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        lesson: Lesson,
        anthropic: FakeAnthropic,
    ) -> None:
        ta = await make_member(db, lesson.classroom.campus.university, UserRole.TA)
        ta_headers = auth_headers(settings, ta)
        chat_id = await open_chat(client, ta_headers, {"content_item_id": lesson.item.id})
        assert (await send(client, ta_headers, chat_id)).status_code == 200
        grant = await db.scalar(select(UserUniversityRole).where(UserUniversityRole.user_id == ta.id))
        await db.delete(grant)
        await db.flush()
        assert_refused(await send(client, ta_headers, chat_id), "content_access_lost")
        assert len(anthropic.requests) == 1


class TestChatsWithoutAContentItem:
    async def test_a_user_with_no_active_enrolment_cannot_open_one(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        stranger = await make_stranger(db)
        response = await client.post(f"{API}/chat/sessions", json={}, headers=auth_headers(settings, stranger))
        assert_refused(response, "tutor_enrollment_required")

    @pytest.mark.parametrize(
        "status",
        [EnrollmentStatus.DROPPED, EnrollmentStatus.PENDING, EnrollmentStatus.WAITLISTED, EnrollmentStatus.COMPLETED],
    )
    async def test_an_enrolment_that_is_not_active_does_not_count(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, lesson: Lesson, status: EnrollmentStatus
    ) -> None:
        member = lesson.classroom.campus.student  # a STUDENT of the university
        await make_enrollment(db, user=member, offering=lesson.classroom.campus.offering, status=status)
        response = await client.post(f"{API}/chat/sessions", json={}, headers=auth_headers(settings, member))
        assert_refused(response, "tutor_enrollment_required")

    async def test_an_active_enrolment_opens_it_and_dropping_it_closes_it_again(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        headers: Headers,
        lesson: Lesson,
        anthropic: FakeAnthropic,
    ) -> None:
        chat_id = await open_chat(client, headers, {})
        assert (await send(client, headers, chat_id)).status_code == 200
        await drop(client, db, settings, lesson)
        assert_refused(await send(client, headers, chat_id), "tutor_enrollment_required")
        assert_refused(
            await client.post(f"{API}/chat/sessions/{chat_id}/retry", headers=headers), "tutor_enrollment_required"
        )
        assert_refused(
            await client.post(f"{API}/chat/sessions/{chat_id}/share", headers=headers), "tutor_enrollment_required"
        )
        assert_refused(await client.post(f"{API}/chat/sessions", json={}, headers=headers), "tutor_enrollment_required")
        assert len(anthropic.requests) == 1

    @pytest.mark.parametrize(
        "role", [UserRole.TA, UserRole.INSTRUCTOR, UserRole.DEPARTMENT_ADMIN, UserRole.UNIVERSITY_ADMIN]
    )
    async def test_staff_without_an_enrolment_may_while_a_plain_student_may_not(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        lesson: Lesson,
        anthropic: FakeAnthropic,
        role: UserRole,
    ) -> None:
        university = lesson.classroom.campus.university
        student = await make_member(db, university, UserRole.STUDENT)
        refused = await client.post(f"{API}/chat/sessions", json={}, headers=auth_headers(settings, student))
        assert_refused(refused, "tutor_enrollment_required")
        staff_headers = auth_headers(settings, await make_member(db, university, role))
        chat_id = await open_chat(client, staff_headers, {})
        assert (await send(client, staff_headers, chat_id)).status_code == 200

    async def test_the_open_chat_setting_opens_it_to_everyone_signed_in(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, anthropic: FakeAnthropic
    ) -> None:
        stranger_headers = auth_headers(settings, await make_stranger(db))
        assert_refused(
            await client.post(f"{API}/chat/sessions", json={}, headers=stranger_headers), "tutor_enrollment_required"
        )
        await set_open_chat(client, db, settings, True)
        chat_id = await open_chat(client, stranger_headers, {})
        assert (await send(client, stranger_headers, chat_id)).status_code == 200
        await set_open_chat(client, db, settings, False)  # checked on every message, not only at creation
        assert_refused(await send(client, stranger_headers, chat_id), "tutor_enrollment_required")
        assert len(anthropic.requests) == 1

    async def test_the_open_chat_setting_is_read_from_the_environment(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        stranger_headers = auth_headers(settings, await make_stranger(db))
        assert_refused(
            await client.post(f"{API}/chat/sessions", json={}, headers=stranger_headers), "tutor_enrollment_required"
        )
        monkeypatch.setenv("TWOSIGMA_TUTOR_OPEN_CHAT", "true")
        assert (await client.post(f"{API}/chat/sessions", json={}, headers=stranger_headers)).status_code == 201

    async def test_the_open_chat_setting_does_not_open_content_one_may_not_read(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, lesson: Lesson
    ) -> None:
        stranger_headers = auth_headers(settings, await make_stranger(db))
        await set_open_chat(client, db, settings, True)
        assert (await client.post(f"{API}/chat/sessions", json={}, headers=stranger_headers)).status_code == 201
        body = {"content_item_id": lesson.item.id}
        assert (await client.post(f"{API}/chat/sessions", json=body, headers=stranger_headers)).status_code == 404
