"""GET /admin/analytics/tutor-usage: grouped figures from the ledger, the 80 % threshold, CSV, and who sees what."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.courses import make_course
from tests.fixtures.factories import auth_headers
from tests.fixtures.prompts import platform_admin
from tests.fixtures.tutor import API, Lesson, make_lesson
from twosigma.config import Settings
from twosigma.governance.models import CourseTutorPolicy, TutorUsage, UniversityTutorPolicy
from twosigma.kit.clock import get_now

URL = f"{API}/admin/analytics/tutor-usage"
NOW = datetime(2026, 5, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
async def lesson(db: AsyncSession, app: FastAPI) -> Lesson:
    app.dependency_overrides[get_now] = lambda: NOW
    lesson = await make_lesson(db)
    campus = lesson.classroom.campus
    rows = [
        (lesson.student.id, "model-a", 100, 10, 1.0, datetime(2026, 5, 3, 9, tzinfo=UTC)),
        (lesson.student.id, "model-b", 200, 20, 2.5, datetime(2026, 5, 4, 9, tzinfo=UTC)),
        (campus.ta.id, "model-a", 50, 5, 0.5, datetime(2026, 5, 4, 23, tzinfo=UTC)),
        (campus.ta.id, "model-a", 50, 5, 9.0, datetime(2026, 4, 30, 9, tzinfo=UTC)),  # last month
    ]
    for user_id, model, tokens_in, tokens_out, cost, at in rows:
        db.add(
            TutorUsage(
                user_id=user_id,
                course_id=campus.course.id,
                university_id=campus.university.id,
                model=model,
                input_tokens=tokens_in,
                output_tokens=tokens_out,
                cost_usd=cost,
                created_at=at,
            )
        )
    # Another university's spend, which no report of this one may show.
    db.add(
        TutorUsage(
            university_id=campus.other_university.id,
            model="model-a",
            input_tokens=1,
            output_tokens=1,
            cost_usd=77.0,
            created_at=NOW,
        )
    )
    await db.flush()
    return lesson


class TestTheReport:
    async def test_grouped_by_model_this_month_for_the_universitys_admin(
        self, client: httpx.AsyncClient, settings: Settings, lesson: Lesson
    ) -> None:
        r = await client.get(URL, headers=auth_headers(settings, lesson.classroom.campus.admin))
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["university_id"] == lesson.classroom.campus.university.id
        assert (body["since"], body["until"]) == ("2026-05-01", "2026-05-20")
        by_model = {row["key"]: row for row in body["rows"]}
        assert by_model["model-b"]["cost_usd"] == 2.5
        assert (by_model["model-a"]["turns"], by_model["model-a"]["cost_usd"]) == (2, 1.5)
        assert by_model["model-a"]["active_students"] == 2
        totals = body["totals"]
        assert (totals["turns"], totals["cost_usd"], totals["input_tokens"], totals["active_students"]) == (
            3,
            4.0,
            350,
            2,
        )

    @pytest.mark.parametrize(
        ("group_by", "keys"),
        [("day", ["2026-05-03", "2026-05-04"]), ("user", None), ("course", None)],
    )
    async def test_each_grouping(
        self, client: httpx.AsyncClient, settings: Settings, lesson: Lesson, group_by: str, keys: list[str] | None
    ) -> None:
        r = await client.get(
            URL, params={"group_by": group_by}, headers=auth_headers(settings, lesson.classroom.campus.admin)
        )
        rows = r.json()["rows"]
        if group_by == "day":
            assert [row["key"] for row in rows] == keys
        elif group_by == "user":
            assert {row["key"] for row in rows} == {lesson.student.id, lesson.classroom.campus.ta.id}
            assert lesson.student.full_name in {row["label"] for row in rows}
        else:
            assert [(row["key"], row["label"]) for row in rows] == [
                (lesson.classroom.course.id, lesson.classroom.course.title)
            ]

    async def test_a_range_and_a_course(self, client: httpx.AsyncClient, settings: Settings, lesson: Lesson) -> None:
        params = {"from": "2026-04-01", "to": "2026-05-03", "course_id": lesson.classroom.course.id}
        body = (
            await client.get(URL, params=params, headers=auth_headers(settings, lesson.classroom.campus.admin))
        ).json()
        assert (body["totals"]["turns"], body["totals"]["cost_usd"]) == (2, 10.0)

    async def test_the_80_percent_threshold_is_flagged(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, lesson: Lesson
    ) -> None:
        campus = lesson.classroom.campus
        db.add(UniversityTutorPolicy(university_id=campus.university.id, monthly_budget_usd=5.0))
        db.add(CourseTutorPolicy(course_id=campus.course.id, monthly_budget_usd=10.0))
        quiet = await make_course(db, university=campus.university)
        db.add(CourseTutorPolicy(course_id=quiet.id, monthly_budget_usd=1.0))
        await db.flush()
        budgets = (await client.get(URL, headers=auth_headers(settings, campus.admin))).json()["budgets"]
        by_scope = {(b["scope"], b["course_id"]): b for b in budgets}
        university = by_scope[("university_monthly", None)]
        assert (university["spent_usd"], university["ratio"], university["threshold_reached"]) == (4.0, 0.8, True)
        assert university["exhausted"] is False
        course = by_scope[("course_monthly", campus.course.id)]
        assert (course["ratio"], course["threshold_reached"]) == (0.4, False)
        assert by_scope[("course_monthly", quiet.id)]["spent_usd"] == 0

    async def test_csv_has_a_header_the_groups_and_the_totals(
        self, client: httpx.AsyncClient, settings: Settings, lesson: Lesson
    ) -> None:
        r = await client.get(
            URL, params={"format": "csv"}, headers=auth_headers(settings, lesson.classroom.campus.admin)
        )
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/csv")
        lines = list(csv.reader(io.StringIO(r.text)))
        assert lines[0] == ["model", "label", "input_tokens", "output_tokens", "cost_usd", "turns", "active_students"]
        assert lines[-1][:2] == ["", "total"]
        assert len(lines) == 4

    async def test_a_formula_in_a_name_is_quoted_in_the_csv(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, lesson: Lesson
    ) -> None:
        lesson.student.full_name = "=HYPERLINK(1)"
        await db.flush()
        r = await client.get(
            URL,
            params={"format": "csv", "group_by": "user"},
            headers=auth_headers(settings, lesson.classroom.campus.admin),
        )
        assert "'=HYPERLINK(1)" in r.text

    async def test_a_backwards_or_overlong_range_is_422(
        self, client: httpx.AsyncClient, settings: Settings, lesson: Lesson
    ) -> None:
        headers = auth_headers(settings, lesson.classroom.campus.admin)
        for params in ({"from": "2026-05-02", "to": "2026-05-01"}, {"from": "2024-01-01", "to": "2026-01-01"}):
            assert (await client.get(URL, params=params, headers=headers)).status_code == 422


class TestWhoSeesWhat:
    async def test_the_platform_admin_sees_every_university(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, lesson: Lesson
    ) -> None:
        body = (await client.get(URL, headers=await platform_admin(db, settings))).json()
        assert body["university_id"] is None
        assert body["totals"]["cost_usd"] >= 81.0

    async def test_another_universitys_admin_gets_404_for_this_university_and_its_course(
        self, client: httpx.AsyncClient, settings: Settings, lesson: Lesson
    ) -> None:
        campus = lesson.classroom.campus
        headers = auth_headers(settings, campus.outsider_admin)
        assert (
            await client.get(URL, params={"university_id": campus.university.id}, headers=headers)
        ).status_code == 404
        assert (await client.get(URL, params={"course_id": campus.course.id}, headers=headers)).status_code == 404

    async def test_an_instructor_or_student_gets_403(
        self, client: httpx.AsyncClient, settings: Settings, lesson: Lesson
    ) -> None:
        for user in (lesson.classroom.campus.instructor, lesson.student):
            assert (await client.get(URL, headers=auth_headers(settings, user))).status_code == 403
