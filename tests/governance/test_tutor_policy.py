"""The tutor policy at three levels: resolution, the routes and who may use them, and the tutor switched off."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fakes import FakeAnthropic
from tests.fixtures.factories import auth_headers
from tests.fixtures.tutor import API, Lesson, make_chat, make_lesson
from twosigma.config import Settings
from twosigma.governance.models import CourseTutorPolicy, UniversityTutorPolicy
from twosigma.governance.services.policy import resolve_levels
from twosigma.system_settings.effective import EffectiveSettings
from twosigma.system_settings.registry import DEFAULT_SUPPORT_TEXT
from twosigma.tutor.models import ChatMessage

Headers = dict[str, str]


@pytest.fixture
async def lesson(db: AsyncSession) -> Lesson:
    return await make_lesson(db)


def uni(**fields: Any) -> UniversityTutorPolicy:
    return UniversityTutorPolicy(university_id=1, **fields)


def course(**fields: Any) -> CourseTutorPolicy:
    return CourseTutorPolicy(course_id=1, **fields)


PLATFORM = EffectiveSettings(tutor_enabled=True, tutor_monthly_budget_usd=100.0, tutor_user_daily_budget_usd=None)


class TestResolution:
    """For each field the narrowest level that sets it wins; null inherits."""

    @pytest.mark.parametrize(
        ("university", "course_policy", "field", "value", "source"),
        [
            (None, None, "enabled", True, "platform"),
            (uni(enabled=False), None, "enabled", False, "university"),
            (uni(enabled=False), course(enabled=True), "enabled", True, "course"),
            (uni(enabled=None), course(enabled=False), "enabled", False, "course"),
            (uni(enabled=False), course(enabled=None), "enabled", False, "university"),
            (None, None, "monthly_budget_usd", 100.0, "platform"),
            (uni(monthly_budget_usd=50.0), None, "monthly_budget_usd", 50.0, "university"),
            (uni(monthly_budget_usd=50.0), course(monthly_budget_usd=5.0), "monthly_budget_usd", 5.0, "course"),
            (None, course(monthly_budget_usd=0.0), "monthly_budget_usd", 0.0, "course"),
            (None, None, "user_daily_budget_usd", None, "platform"),
            (uni(user_daily_budget_usd=1.0), None, "user_daily_budget_usd", 1.0, "university"),
            (uni(user_daily_budget_usd=1.0), course(user_daily_budget_usd=2.0), "user_daily_budget_usd", 2.0, "course"),
            (None, None, "chat_visibility", "private", "platform"),
            (uni(chat_visibility="course"), course(), "chat_visibility", "course", "university"),
            (None, None, "support_text", DEFAULT_SUPPORT_TEXT, "platform"),
            (uni(support_text="Call 144"), course(), "support_text", "Call 144", "university"),
        ],
    )
    def test_the_narrowest_level_that_sets_a_field_wins(
        self,
        university: UniversityTutorPolicy | None,
        course_policy: CourseTutorPolicy | None,
        field: str,
        value: Any,
        source: str,
    ) -> None:
        resolved = getattr(resolve_levels(PLATFORM, university, course_policy), field)
        assert (resolved.value, resolved.source) == (value, source)

    def test_the_university_budget_ignores_the_course_level(self) -> None:
        resolved = resolve_levels(PLATFORM, uni(monthly_budget_usd=50.0), course(monthly_budget_usd=5.0))
        assert (resolved.university_monthly_budget_usd.value, resolved.university_monthly_budget_usd.source) == (
            50.0,
            "university",
        )


class TestUniversityPolicyRoutes:
    async def test_an_admin_sets_the_policy_and_reads_where_each_value_comes_from(
        self, client: httpx.AsyncClient, settings: Settings, lesson: Lesson
    ) -> None:
        campus = lesson.classroom.campus
        url = f"{API}/universities/{campus.university.id}/tutor-policy"
        headers = auth_headers(settings, campus.admin)
        empty = await client.get(url, headers=headers)
        assert empty.status_code == 200, empty.text
        assert empty.json()["enabled"] is None
        assert empty.json()["effective"] is None
        body = {"enabled": False, "monthly_budget_usd": 250.0, "chat_visibility": "flagged", "support_text": "Call 144"}
        put = await client.put(url, json=body, headers=headers)
        assert put.status_code == 200, put.text
        got = (await client.get(url, params={"effective": "true"}, headers=headers)).json()
        assert got["level"] == "university"
        assert (got["enabled"], got["monthly_budget_usd"], got["user_daily_budget_usd"]) == (False, 250.0, None)
        effective = got["effective"]
        assert effective["enabled"] == {"value": False, "source": "university"}
        assert effective["monthly_budget_usd"] == {"value": 250.0, "source": "university"}
        assert effective["user_daily_budget_usd"] == {"value": None, "source": "platform"}
        assert effective["chat_visibility"] == {"value": "flagged", "source": "university"}

    async def test_put_replaces_the_policy_and_a_left_out_field_inherits_again(
        self, client: httpx.AsyncClient, settings: Settings, lesson: Lesson
    ) -> None:
        campus = lesson.classroom.campus
        url = f"{API}/universities/{campus.university.id}/tutor-policy"
        headers = auth_headers(settings, campus.admin)
        await client.put(url, json={"enabled": False, "monthly_budget_usd": 5}, headers=headers)
        again = await client.put(url, json={"monthly_budget_usd": 7}, headers=headers)
        assert again.json()["enabled"] is None
        assert again.json()["effective"]["enabled"] == {"value": True, "source": "platform"}

    @pytest.mark.parametrize(
        "body",
        [
            {"monthly_budget_usd": -1},
            {"chat_visibility": "everyone"},
            {"enabled": "maybe"},
            {"unknown": 1},
            {"support_text": ""},
            {"safety_contact_email": "not-an-address"},
        ],
    )
    async def test_a_bad_policy_is_422(
        self, client: httpx.AsyncClient, settings: Settings, lesson: Lesson, body: dict[str, Any]
    ) -> None:
        campus = lesson.classroom.campus
        r = await client.put(
            f"{API}/universities/{campus.university.id}/tutor-policy",
            json=body,
            headers=auth_headers(settings, campus.admin),
        )
        assert r.status_code == 422, r.text

    async def test_an_instructor_gets_403_and_another_universitys_admin_404(
        self, client: httpx.AsyncClient, settings: Settings, lesson: Lesson
    ) -> None:
        campus = lesson.classroom.campus
        url = f"{API}/universities/{campus.university.id}/tutor-policy"
        assert (await client.get(url, headers=auth_headers(settings, campus.instructor))).status_code == 403
        assert (await client.get(url, headers=auth_headers(settings, campus.outsider_admin))).status_code == 404
        assert (await client.put(url, json={}, headers=auth_headers(settings, lesson.student))).status_code == 403


class TestCoursePolicyRoutes:
    async def test_whoever_may_edit_the_course_sets_its_policy_over_the_universitys(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, lesson: Lesson
    ) -> None:
        campus = lesson.classroom.campus
        db.add(UniversityTutorPolicy(university_id=campus.university.id, enabled=False, user_daily_budget_usd=1.0))
        await db.flush()
        url = f"{API}/courses/{campus.course.id}/tutor-policy"
        put = await client.put(url, json={"enabled": True}, headers=auth_headers(settings, campus.admin))
        assert put.status_code == 200, put.text
        effective = put.json()["effective"]
        assert effective["enabled"] == {"value": True, "source": "course"}
        assert effective["user_daily_budget_usd"] == {"value": 1.0, "source": "university"}
        assert effective["chat_visibility"] == {"value": "private", "source": "platform"}

    async def test_a_course_cannot_set_visibility_or_support_text(
        self, client: httpx.AsyncClient, settings: Settings, lesson: Lesson
    ) -> None:
        campus = lesson.classroom.campus
        r = await client.put(
            f"{API}/courses/{campus.course.id}/tutor-policy",
            json={"chat_visibility": "course"},
            headers=auth_headers(settings, campus.admin),
        )
        assert r.status_code == 422

    async def test_a_student_gets_403_and_an_outsider_404(
        self, client: httpx.AsyncClient, settings: Settings, lesson: Lesson
    ) -> None:
        campus = lesson.classroom.campus
        url = f"{API}/courses/{campus.course.id}/tutor-policy"
        assert (await client.get(url, headers=auth_headers(settings, lesson.student))).status_code == 403
        assert (await client.get(url, headers=auth_headers(settings, campus.outsider_admin))).status_code == 404


class TestTheTutorSwitchedOff:
    async def switch_off(self, db: AsyncSession, lesson: Lesson) -> None:
        db.add(CourseTutorPolicy(course_id=lesson.classroom.course.id, enabled=False))
        await db.flush()

    async def test_opening_a_chat_in_a_course_with_the_tutor_off_is_403_tutor_disabled(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, lesson: Lesson
    ) -> None:
        await self.switch_off(db, lesson)
        r = await client.post(
            f"{API}/chat/sessions",
            json={"content_item_id": lesson.item.id},
            headers=auth_headers(settings, lesson.student),
        )
        assert r.status_code == 403
        assert r.json()["error"]["code"] == "tutor_disabled"
        assert r.json()["error"]["details"]["source"] == "course"

    async def test_a_message_in_an_existing_chat_is_refused_and_nothing_is_stored_or_sent(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        lesson: Lesson,
        anthropic: FakeAnthropic,
    ) -> None:
        chat = await make_chat(db, lesson.student, content_item_id=lesson.item.id)
        await self.switch_off(db, lesson)
        headers = auth_headers(settings, lesson.student)
        for path, body in (("messages", {"content": "Hello?"}), ("retry", None)):
            r = await client.post(f"{API}/chat/sessions/{chat.id}/{path}", json=body, headers=headers)
            assert r.status_code == 403, r.text
            assert r.json()["error"]["code"] == "tutor_disabled"
        count = await db.scalar(select(func.count()).select_from(ChatMessage).where(ChatMessage.session_id == chat.id))
        assert count == 0
        assert anthropic.requests == []

    async def test_the_platform_switch_turns_off_chats_without_an_item(
        self, client: httpx.AsyncClient, settings: Settings, lesson: Lesson, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("TWOSIGMA_TUTOR_ENABLED", "false")
        r = await client.post(f"{API}/chat/sessions", json={}, headers=auth_headers(settings, lesson.student))
        assert r.status_code == 403
        assert r.json()["error"]["details"]["source"] == "platform"

    async def test_a_course_switched_on_under_a_university_switched_off_answers(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        lesson: Lesson,
        anthropic: FakeAnthropic,
    ) -> None:
        db.add(UniversityTutorPolicy(university_id=lesson.classroom.campus.university.id, enabled=False))
        db.add(CourseTutorPolicy(course_id=lesson.classroom.course.id, enabled=True))
        await db.flush()
        headers = auth_headers(settings, lesson.student)
        opened = await client.post(f"{API}/chat/sessions", json={"content_item_id": lesson.item.id}, headers=headers)
        assert opened.status_code == 201, opened.text
        sent = await client.post(
            f"{API}/chat/sessions/{opened.json()['id']}/messages", json={"content": "Hi"}, headers=headers
        )
        assert sent.status_code == 200, sent.text

    async def test_the_course_tree_says_whether_the_tutor_is_on(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, lesson: Lesson
    ) -> None:
        url = f"{API}/courses/{lesson.classroom.course.id}/tree"
        headers = auth_headers(settings, lesson.student)
        assert (await client.get(url, headers=headers)).json()["tutor_enabled"] is True
        await self.switch_off(db, lesson)
        assert (await client.get(url, headers=headers)).json()["tutor_enabled"] is False

    async def test_another_universitys_policy_does_not_apply(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, lesson: Lesson
    ) -> None:
        other = lesson.classroom.campus.other_university
        db.add(UniversityTutorPolicy(university_id=other.id, enabled=False))
        await db.flush()
        r = await client.post(
            f"{API}/chat/sessions",
            json={"content_item_id": lesson.item.id},
            headers=auth_headers(settings, lesson.student),
        )
        assert r.status_code == 201
