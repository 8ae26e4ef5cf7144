"""GET /api/v1/admin/analytics/overview: exact figures on a hand-built data set, scoping, and a fixed query count."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from tests.fixtures.analytics import NOW, Dataset, make_dataset
from tests.fixtures.factories import auth_headers, make_member, make_university, unique
from tests.fixtures.tenancy import count_statements
from twosigma.config import Settings
from twosigma.enums import UserRole
from twosigma.kit.clock import get_now

URL = "/api/v1/admin/analytics/overview"


@pytest.fixture
async def frozen(app: FastAPI) -> AsyncIterator[None]:
    app.dependency_overrides[get_now] = lambda: NOW
    yield
    app.dependency_overrides.pop(get_now, None)


@pytest.fixture
async def data(db: AsyncSession, frozen: None) -> Dataset:
    return await make_dataset(db, unique("test-model-"))


async def overview(client: httpx.AsyncClient, settings: Settings, who: Any, **params: Any) -> httpx.Response:
    return await client.get(URL, params=params, headers=auth_headers(settings, who))


def tokens_of(body: dict[str, Any], model: str) -> dict[str, Any] | None:
    return next((row for row in body["tokens_by_model_30d"] if row["model"] == model), None)


class TestUniversityFigures:
    async def test_users_and_activity_count_members_of_the_university(
        self, client: httpx.AsyncClient, settings: Settings, data: Dataset
    ) -> None:
        body = (await overview(client, settings, data.admin_a)).json()
        assert body["university_id"] == data.a.id
        # admin, instructor, three students; active: today and 6 days ago (7d), plus 7 days ago (30d)
        assert body["users"] == {"total": 5, "active_7d": 2, "active_30d": 3}

    async def test_enrolments_are_counted_by_status(
        self, client: httpx.AsyncClient, settings: Settings, data: Dataset
    ) -> None:
        body = (await overview(client, settings, data.admin_a)).json()
        assert body["enrollments"] == {
            "total": 6,
            "by_status": {"ACTIVE": 2, "COMPLETED": 1, "DROPPED": 1, "PENDING": 1, "WAITLISTED": 1},
        }

    async def test_mean_course_progress_is_over_active_and_completed_enrolments(
        self, client: httpx.AsyncClient, settings: Settings, data: Dataset
    ) -> None:
        body = (await overview(client, settings, data.admin_a)).json()
        assert body["mean_course_progress"] == 46.67  # (40 + 100 + 0) / 3

    async def test_chat_counts_sessions_on_the_universitys_content_only(
        self, client: httpx.AsyncClient, settings: Settings, data: Dataset
    ) -> None:
        body = (await overview(client, settings, data.admin_a)).json()
        assert body["chat"] == {
            "sessions": 2,
            "messages": 6,
            "user_messages": 3,
            "assistant_messages": 3,
            "messages_30d": 4,
            "feedback": {"up": 1, "down": 1},
        }

    async def test_tokens_by_model_cover_the_last_30_days(
        self, client: httpx.AsyncClient, settings: Settings, data: Dataset
    ) -> None:
        body = (await overview(client, settings, data.admin_a)).json()
        assert body["tokens_by_model_30d"] == [
            {"model": data.model, "messages": 2, "input_tokens": 300, "output_tokens": 130, "total_tokens": 430}
        ]

    async def test_top_courses_rank_by_active_and_completed_enrolments(
        self, client: httpx.AsyncClient, settings: Settings, data: Dataset
    ) -> None:
        top = (await overview(client, settings, data.admin_a)).json()["top_courses"]
        assert [(c["course_id"], c["enrollments"], c["active"], c["completed"]) for c in top] == [
            (data.course_1_id, 2, 1, 1),
            (data.course_2_id, 1, 1, 0),
        ]

    async def test_another_universitys_admin_sees_their_own_figures(
        self, client: httpx.AsyncClient, settings: Settings, data: Dataset
    ) -> None:
        body = (await overview(client, settings, data.admin_b)).json()
        assert body["users"] == {"total": 2, "active_7d": 0, "active_30d": 1}
        assert body["mean_course_progress"] == 50.0
        assert body["chat"]["sessions"] == 1
        assert body["chat"]["feedback"] == {"up": 1, "down": 0}


class TestPlatformFigures:
    async def test_a_platform_admin_sees_everything_including_chats_without_content(
        self, client: httpx.AsyncClient, settings: Settings, db: AsyncSession, frozen: None
    ) -> None:
        admin = await make_member(db, await make_university(db), UserRole.PLATFORM_ADMIN)
        before = (await overview(client, settings, admin)).json()
        data = await make_dataset(db, unique("test-model-"))
        after = (await overview(client, settings, admin)).json()
        assert after["university_id"] is None

        def delta(*path: str) -> int:
            a: Any = after
            b: Any = before
            for key in path:
                a, b = a[key], b[key]
            return int(a) - int(b)

        # 8 members + one user with no role (the platform admin asking existed before)
        assert delta("users", "total") == 9
        assert delta("users", "active_7d") == 2
        assert delta("users", "active_30d") == 4
        assert delta("enrollments", "total") == 7
        assert delta("chat", "sessions") == 4
        assert delta("chat", "messages") == 12  # 4 + 2 + 4 + 2
        assert delta("chat", "assistant_messages") == 6
        assert delta("chat", "messages_30d") == 10  # the two 40-day-old ones are out
        assert delta("chat", "feedback", "up") == 2
        assert delta("chat", "feedback", "down") == 1
        assert tokens_of(after, data.model) == {
            "model": data.model,
            "messages": 3,
            "input_tokens": 1300,
            "output_tokens": 1130,
            "total_tokens": 2430,
        }
        assert tokens_of(after, data.model + "-mini") == {
            "model": data.model + "-mini",
            "messages": 1,
            "input_tokens": 7,
            "output_tokens": 3,
            "total_tokens": 10,
        }

    async def test_a_platform_admin_may_scope_to_one_university(
        self, client: httpx.AsyncClient, settings: Settings, data: Dataset
    ) -> None:
        body = (await overview(client, settings, data.platform_admin, university_id=data.a.id)).json()
        assert body["university_id"] == data.a.id
        assert body["users"]["total"] == 5

    async def test_an_unknown_university_is_404(
        self, client: httpx.AsyncClient, settings: Settings, data: Dataset
    ) -> None:
        response = await overview(client, settings, data.platform_admin, university_id=2_000_000_000)
        assert response.status_code == 404


class TestAccess:
    async def test_a_university_admin_asking_for_another_university_gets_404(
        self, client: httpx.AsyncClient, settings: Settings, data: Dataset
    ) -> None:
        response = await overview(client, settings, data.admin_a, university_id=data.b.id)
        assert response.status_code == 404

    async def test_a_university_admin_may_name_their_own_university(
        self, client: httpx.AsyncClient, settings: Settings, data: Dataset
    ) -> None:
        response = await overview(client, settings, data.admin_a, university_id=data.a.id)
        assert response.status_code == 200

    async def test_an_admin_of_two_universities_must_choose_one(
        self, client: httpx.AsyncClient, settings: Settings, db: AsyncSession, data: Dataset
    ) -> None:
        from tests.fixtures.factories import grant_role

        await grant_role(db, data.admin_a, data.b, UserRole.UNIVERSITY_ADMIN)
        response = await overview(client, settings, data.admin_a)
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "university_id_required"
        assert response.json()["error"]["details"]["university_ids"] == sorted([data.a.id, data.b.id])

    async def test_a_student_is_forbidden(self, client: httpx.AsyncClient, settings: Settings, data: Dataset) -> None:
        assert (await overview(client, settings, data.student_a)).status_code == 403
        assert (await overview(client, settings, data.student_a, university_id=data.a.id)).status_code == 403

    async def test_an_instructor_is_forbidden(
        self, client: httpx.AsyncClient, settings: Settings, data: Dataset
    ) -> None:
        assert (await overview(client, settings, data.instructor_a, university_id=data.a.id)).status_code == 403

    async def test_without_a_token_is_401(self, client: httpx.AsyncClient) -> None:
        assert (await client.get(URL)).status_code == 401

    async def test_a_bad_university_id_is_a_validation_error(
        self, client: httpx.AsyncClient, settings: Settings, data: Dataset
    ) -> None:
        response = await overview(client, settings, data.admin_a, university_id="abc")
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "validation_error"


class TestQueryCount:
    async def test_the_number_of_queries_does_not_grow_with_the_data(
        self, client: httpx.AsyncClient, settings: Settings, db: AsyncSession, db_engine: AsyncEngine, data: Dataset
    ) -> None:
        with count_statements(db_engine) as small:
            assert (await overview(client, settings, data.platform_admin, university_id=data.a.id)).status_code == 200
        for _ in range(3):
            await make_dataset(db, unique("test-model-"))
        with count_statements(db_engine) as large:
            assert (await overview(client, settings, data.platform_admin, university_id=data.a.id)).status_code == 200
        assert small.count == large.count
        # principal (user with grants, one query), the university check, then five aggregates; the rest is the
        # test's savepoints
        selects = [s for s in large.statements if s.lstrip().upper().startswith("SELECT")]
        assert len(selects) == 7, selects
