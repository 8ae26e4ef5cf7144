"""A gradable item's progress follows its grade: the client cannot write it (409 `graded_item`); after each attempt
it is 100 once an attempt passed, else the best score capped at 99; the roll-up, streak and completion run."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.assessments import ALL_RIGHT, answers, make_quiz_item, make_quiz_room, quiz
from tests.fixtures.content import make_content_item, make_module
from tests.fixtures.factories import auth_headers
from twosigma.config import Settings
from twosigma.enrollments.models import CourseEnrollment
from twosigma.enums import EnrollmentStatus
from twosigma.progress.models import UserContentProgress
from twosigma.progress.service import percent_of_grade
from twosigma.users.models import User


@pytest.mark.parametrize(
    ("score", "passed", "percent"),
    [(0, False, 0), (49.99, False, 49), (99.5, False, 99), (100, False, 99), (70, True, 100), (0, True, 100)],
)
def test_percent_of_grade(score: float, passed: bool, percent: int) -> None:
    assert percent_of_grade(score, passed) == percent


class TestClientWrites:
    async def test_a_client_percent_on_a_gradable_item_is_409_graded_item(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        qr = await make_quiz_room(db)
        headers = auth_headers(settings, qr.room.enrolled)
        r = await client.put(qr.progress_url(), json={"progress_percent": 100}, headers=headers)
        assert r.status_code == 409
        assert r.json()["error"]["code"] == "graded_item"
        stored = await db.scalar(select(UserContentProgress).where(UserContentProgress.content_item_id == qr.item.id))
        assert stored is None

    async def test_other_items_keep_client_reported_progress(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        qr = await make_quiz_room(db)
        reading = await make_content_item(db, module=qr.lesson, content_type=qr.room.content_type)
        headers = auth_headers(settings, qr.room.enrolled)
        r = await client.put(qr.progress_url(reading), json={"progress_percent": 60}, headers=headers)
        assert r.status_code == 200, r.text
        assert r.json()["item"]["progress_percent"] == 60

    async def test_an_unpublished_gradable_item_is_still_404_first(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        qr = await make_quiz_room(db)
        draft = await make_module(db, parent=qr.lesson, is_published=False)
        hidden = await make_quiz_item(db, module=draft, quiz_type=qr.quiz_type)
        headers = auth_headers(settings, qr.room.enrolled)
        r = await client.put(qr.progress_url(hidden), json={"progress_percent": 10}, headers=headers)
        assert r.status_code == 404


async def item_progress(db: AsyncSession, user: User, item_id: int) -> UserContentProgress | None:
    stmt = select(UserContentProgress).where(
        UserContentProgress.user_id == user.id, UserContentProgress.content_item_id == item_id
    )
    return (await db.scalars(stmt.execution_options(populate_existing=True))).one_or_none()


class TestDerivedProgress:
    async def test_best_score_capped_at_99_never_lowered_then_100_on_a_pass_with_roll_up_and_completion(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        # q1 is worth 199 of 200 points and the pass mark is 100: answering q1 alone scores 99.5 and fails.
        data = quiz(pass_percent=100, max_attempts=None)
        data["questions"] = data["questions"][:2]
        data["questions"][0]["points"] = 199
        qr = await make_quiz_room(db, data)
        # A second item in another lesson: the course reaches 100 only when both are done.
        other_lesson = await make_module(db, parent=qr.lesson)
        reading = await make_content_item(db, module=other_lesson, content_type=qr.room.content_type)
        student = qr.room.enrolled
        headers = auth_headers(settings, student)

        async def attempt(given: dict[str, Any]) -> dict[str, Any]:
            r = await client.post(qr.attempts_url(), json={"answers": given}, headers=headers)
            assert r.status_code == 201, r.text
            return dict(r.json()["progress"])

        progress = await attempt({"q1": 0, "q2": [0, 2]})  # 1 / 200 = 0.5 %
        assert progress["item"] == progress["item"] | {"progress_percent": 0, "attempts_count": 1}
        progress = await attempt({"q1": 1, "q2": [0]})  # 99.5 %: not a pass
        assert progress["item"]["progress_percent"] == 99
        assert progress["item"]["completed_at"] is None
        # The lesson holds the quiz (99) and, under it, the other lesson's item (0): (99 + 0) // 2.
        assert [m["progress_percent"] for m in progress["modules"]] == [49, 49]
        assert progress["current_streak_days"] == 1
        progress = await attempt({"q1": 0})  # a worse attempt lowers nothing
        assert progress["item"]["progress_percent"] == 99
        assert progress["item"]["attempts_count"] == 3

        r = await client.put(qr.progress_url(reading), json={"progress_percent": 100}, headers=headers)
        assert r.json()["course_progress_percent"] == 99  # (99 + 100) // 2
        assert r.json()["enrollment_status"] == "ACTIVE"

        progress = await attempt({"q1": 1, "q2": [0, 2]})  # a pass
        assert progress["item"]["progress_percent"] == 100
        assert progress["item"]["completed_at"] is not None
        assert progress["course_progress_percent"] == 100
        assert progress["enrollment_status"] == "COMPLETED"
        stored = await item_progress(db, student, qr.item.id)
        assert stored is not None
        assert stored.progress_percent == 100
        assert stored.attempts_count == 4
        enrollment = await db.scalar(
            select(CourseEnrollment)
            .where(CourseEnrollment.user_id == student.id)
            .execution_options(populate_existing=True)
        )
        assert enrollment is not None
        assert enrollment.status is EnrollmentStatus.COMPLETED

    async def test_a_failed_attempt_records_its_score_and_a_pass_completes_the_item(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        qr = await make_quiz_room(db)
        await make_content_item(db, module=qr.lesson, content_type=qr.room.content_type)
        headers = auth_headers(settings, qr.room.enrolled)
        r = await client.post(qr.attempts_url(), json={"answers": answers(2)}, headers=headers)
        assert r.json()["progress"]["item"]["progress_percent"] == 50
        assert r.json()["progress"]["course_progress_percent"] == 25
        r = await client.post(qr.attempts_url(), json={"answers": ALL_RIGHT}, headers=headers)
        assert r.json()["progress"]["item"]["progress_percent"] == 100
        assert r.json()["progress"]["course_progress_percent"] == 50
