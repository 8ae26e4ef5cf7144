"""POST/GET /offerings/{id}/content-items/{item}/attempts: grading on the server, the feedback policies, the limits,
who may attempt, and old attempts keeping their grade when the quiz changes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.assessments import ALL_RIGHT, QuizRoom, answers, make_quiz_item, make_quiz_room, quiz
from tests.fixtures.content import make_content_item, make_course, make_enrollment, make_module, root_of
from tests.fixtures.factories import auth_headers, make_member
from twosigma.assessments.models import QuizAttempt
from twosigma.assessments.quiz import parse_quiz
from twosigma.config import Settings
from twosigma.content.models import ContentItem
from twosigma.enums import EnrollmentStatus, UserRole
from twosigma.tenancy.models import MemberSuspension
from twosigma.users.models import User


async def submit(
    client: httpx.AsyncClient,
    settings: Settings,
    qr: QuizRoom,
    given: dict[str, Any],
    *,
    user: User | None = None,
    item: ContentItem | None = None,
) -> httpx.Response:
    return await client.post(
        qr.attempts_url(item), json={"answers": given}, headers=auth_headers(settings, user or qr.room.enrolled)
    )


async def attempts_stored(db: AsyncSession, qr: QuizRoom) -> int:
    stmt = select(func.count()).select_from(QuizAttempt).where(QuizAttempt.content_item_id == qr.item.id)
    return int(await db.scalar(stmt) or 0)


class TestGrading:
    async def test_all_right_scores_100_passes_and_shows_every_result_with_feedback(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        qr = await make_quiz_room(db)
        r = await submit(client, settings, qr, ALL_RIGHT)
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["attempt_number"] == 1
        assert (body["points"], body["max_points"], body["score_percent"], body["passed"]) == (4, 4, 100, True)
        assert body["attempts_remaining"] == 2
        assert body["feedback_released"] is True
        assert body["results"] == [
            {"question_id": "q1", "correct": True, "points": 1, "feedback": "7 has no divisor but 1 and itself."},
            {"question_id": "q2", "correct": True, "points": 1, "feedback": "2 and 4 are divisible by 2."},
            {"question_id": "q3", "correct": True, "points": 1, "feedback": None},
            {"question_id": "q4", "correct": True, "points": 1, "feedback": "Paris, since 987."},
        ]
        assert body["answers"] == ALL_RIGHT
        assert body["progress"]["item"]["progress_percent"] == 100

    async def test_a_missing_answer_scores_zero_and_points_are_weighted(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        data = quiz()
        data["questions"][0]["points"] = 3  # q1 3 points, the others 1: 6 in all
        qr = await make_quiz_room(db, data)
        r = await submit(client, settings, qr, {"q1": 1, "q2": [0], "q4": None})
        assert r.status_code == 201, r.text
        body = r.json()
        assert (body["points"], body["max_points"], body["score_percent"], body["passed"]) == (3, 6, 50, False)
        assert [(x["question_id"], x["correct"], x["points"]) for x in body["results"]] == [
            ("q1", True, 3),
            ("q2", False, 0),
            ("q3", False, 0),
            ("q4", False, 0),
        ]
        stored = (await db.scalars(select(QuizAttempt).where(QuizAttempt.content_item_id == qr.item.id))).one()
        assert stored.answers == {"q1": 1, "q2": [0], "q4": None}
        assert [r["answered"] for r in stored.results] == [True, True, False, False]

    async def test_unknown_question_or_wrong_type_is_422_naming_the_question_and_stores_nothing(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        qr = await make_quiz_room(db)
        for given, question, kind in (
            ({"q1": 1, "q9": 2}, "q9", "unknown_question"),
            ({"q1": "1"}, "q1", "wrong_answer_type"),
            ({"q1": True}, "q1", "wrong_answer_type"),
            ({"q2": [0, 0]}, "q2", "wrong_answer_type"),
            ({"q3": "9.81"}, "q3", "wrong_answer_type"),
            ({"q4": 7}, "q4", "wrong_answer_type"),
        ):
            r = await submit(client, settings, qr, given)
            assert r.status_code == 422, (given, r.text)
            detail = r.json()["error"]["details"][0]
            assert (detail["question_id"], detail["type"]) == (question, kind)
        r = await client.post(qr.attempts_url(), json={}, headers=auth_headers(settings, qr.room.enrolled))
        assert r.status_code == 422
        assert await attempts_stored(db, qr) == 0


class TestFeedbackPolicy:
    async def test_after_passing_hides_results_until_a_pass_then_releases_every_attempt(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        qr = await make_quiz_room(db, quiz(show_feedback="after_passing"))
        r = await submit(client, settings, qr, answers(1))
        assert r.status_code == 201, r.text
        body = r.json()
        assert (body["score_percent"], body["passed"], body["feedback_released"]) == (25, False, False)
        assert all(x["correct"] is None and x["points"] is None and x["feedback"] is None for x in body["results"])
        assert [x["question_id"] for x in body["results"]] == ["q1", "q2", "q3", "q4"]

        listed = await client.get(qr.attempts_url(), headers=auth_headers(settings, qr.room.enrolled))
        assert listed.json()["items"][0]["results"][0]["correct"] is None

        r = await submit(client, settings, qr, ALL_RIGHT)
        assert r.json()["feedback_released"] is True
        assert r.json()["results"][0]["feedback"] == "7 has no divisor but 1 and itself."
        # The pass releases the earlier attempt's results too, even on a page without the pass.
        first = await client.get(
            qr.attempts_url(), params={"limit": 1}, headers=auth_headers(settings, qr.room.enrolled)
        )
        shown = first.json()["items"][0]
        assert shown["attempt_number"] == 1
        assert shown["feedback_released"] is True
        assert [x["correct"] for x in shown["results"]] == [True, False, False, False]

    async def test_never_releases_nothing_but_the_score_even_after_a_pass(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        qr = await make_quiz_room(db, quiz(show_feedback="never"))
        r = await submit(client, settings, qr, ALL_RIGHT)
        body = r.json()
        assert (body["score_percent"], body["passed"], body["feedback_released"]) == (100, True, False)
        assert all(x["correct"] is None and x["feedback"] is None for x in body["results"])

    async def test_the_policy_is_read_as_it_is_now_so_staff_can_release_feedback_later(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        qr = await make_quiz_room(db, quiz(show_feedback="never"))
        await submit(client, settings, qr, answers(2))
        await db.execute(
            update(ContentItem)
            .where(ContentItem.id == qr.item.id)
            .values(data_json=quiz(show_feedback="after_each_attempt"))
        )
        listed = await client.get(qr.attempts_url(), headers=auth_headers(settings, qr.room.enrolled))
        assert [x["correct"] for x in listed.json()["items"][0]["results"]] == [True, True, False, False]


class TestLimits:
    async def test_past_max_attempts_is_409_attempts_exhausted(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        qr = await make_quiz_room(db, quiz(max_attempts=2))
        assert (await submit(client, settings, qr, answers(0))).json()["attempts_remaining"] == 1
        assert (await submit(client, settings, qr, answers(1))).json()["attempts_remaining"] == 0
        r = await submit(client, settings, qr, ALL_RIGHT)
        assert r.status_code == 409
        assert r.json()["error"]["code"] == "attempts_exhausted"
        assert r.json()["error"]["details"] == {"max_attempts": 2, "attempts_used": 2}
        assert await attempts_stored(db, qr) == 2

    async def test_unlimited_attempts_number_on(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        qr = await make_quiz_room(db, quiz(max_attempts=None))
        numbers = [(await submit(client, settings, qr, answers(0))).json()["attempt_number"] for _ in range(5)]
        assert numbers == [1, 2, 3, 4, 5]

    async def test_the_limit_is_per_student(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        qr = await make_quiz_room(db, quiz(max_attempts=1))
        other = await make_member(db, qr.room.campus.university, UserRole.STUDENT)
        await make_enrollment(db, user=other, offering=qr.room.campus.offering)
        assert (await submit(client, settings, qr, answers(0))).status_code == 201
        assert (await submit(client, settings, qr, answers(0), user=other)).status_code == 201
        assert (await submit(client, settings, qr, answers(0))).status_code == 409


class TestTheItem:
    async def test_an_item_that_is_not_gradable_is_409_not_gradable(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        qr = await make_quiz_room(db)
        reading = await make_content_item(db, module=qr.lesson, content_type=qr.room.content_type, data_json=quiz())
        r = await submit(client, settings, qr, ALL_RIGHT, item=reading)
        assert r.status_code == 409
        assert r.json()["error"]["code"] == "not_gradable"
        # Listing is lenient: an item that is not (or no longer) gradable lists what attempts it has.
        listed = await client.get(qr.attempts_url(reading), headers=auth_headers(settings, qr.room.enrolled))
        assert (listed.status_code, listed.json()["total"]) == (200, 0)

    async def test_a_stored_quiz_that_does_not_parse_is_409_quiz_invalid(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        qr = await make_quiz_room(db)
        legacy = await make_quiz_item(
            db, module=qr.lesson, quiz_type=qr.quiz_type, data={"questions": [{"q": "?", "answer_index": 1}]}
        )
        r = await submit(client, settings, qr, {}, item=legacy)
        assert r.status_code == 409
        assert r.json()["error"]["code"] == "quiz_invalid"
        # The parse errors name stored fields and values: for staff when they save, never in a student's answer.
        assert not r.json()["error"].get("details")

    async def test_unpublished_or_another_course_item_is_404(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        qr = await make_quiz_room(db)
        draft = await make_module(db, parent=await root_of(db, qr.room.course), is_published=False)
        hidden = await make_quiz_item(db, module=draft, quiz_type=qr.quiz_type)
        other_course = await make_course(db, university=qr.room.campus.university)
        elsewhere = await make_quiz_item(db, module=await root_of(db, other_course), quiz_type=qr.quiz_type)
        for item in (hidden, elsewhere):
            r = await submit(client, settings, qr, ALL_RIGHT, item=item)
            assert r.status_code == 404, r.text
            listed = await client.get(qr.attempts_url(item), headers=auth_headers(settings, qr.room.enrolled))
            assert listed.status_code == 404


class TestWhoMayAttempt:
    @pytest.mark.parametrize(
        ("who", "status", "code"),
        [
            ("student of the university, not enrolled", 404, "not_enrolled"),
            ("student of another university", 404, "not_found"),
            ("instructor, not enrolled", 403, "not_enrolled"),
            ("dropped", 403, "enrollment_not_active"),
            ("completed", 403, "enrollment_not_active"),
            ("suspended", 403, "membership_suspended"),
        ],
    )
    async def test_only_an_active_student_may_submit(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, who: str, status: int, code: str
    ) -> None:
        qr = await make_quiz_room(db)
        campus = qr.room.campus
        user: User
        if who.startswith("student of the university"):
            user = campus.student
        elif who == "student of another university":
            user = campus.outsider
        elif who.startswith("instructor"):
            user = campus.instructor
        elif who == "suspended":
            user = qr.room.enrolled
            db.add(MemberSuspension(user_id=user.id, university_id=campus.university.id, reason="Exam fraud"))
            await db.flush()
        else:
            user = await make_member(db, campus.university, UserRole.STUDENT)
            state = EnrollmentStatus.DROPPED if who == "dropped" else EnrollmentStatus.COMPLETED
            await make_enrollment(db, user=user, offering=campus.offering, status=state)
        r = await submit(client, settings, qr, ALL_RIGHT, user=user)
        assert r.status_code == status, r.text
        if code != "not_found":
            assert r.json()["error"]["code"] == code
        assert await attempts_stored(db, qr) == 0

    async def test_anonymous_is_401(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        qr = await make_quiz_room(db)
        assert (await client.post(qr.attempts_url(), json={"answers": ALL_RIGHT})).status_code == 401


class TestListing:
    async def test_lists_only_the_callers_attempts_in_pages(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        qr = await make_quiz_room(db, quiz(max_attempts=None))
        other = await make_member(db, qr.room.campus.university, UserRole.STUDENT)
        await make_enrollment(db, user=other, offering=qr.room.campus.offering)
        for right in (1, 2, 3):
            assert (await submit(client, settings, qr, answers(right))).status_code == 201
        await submit(client, settings, qr, ALL_RIGHT, user=other)
        headers = auth_headers(settings, qr.room.enrolled)
        page = (await client.get(qr.attempts_url(), params={"limit": 2, "page": 2}, headers=headers)).json()
        assert (page["total"], page["pages"], page["page"], page["limit"]) == (3, 2, 2, 2)
        assert [(a["attempt_number"], a["score_percent"]) for a in page["items"]] == [(3, 75)]
        everything = (await client.get(qr.attempts_url(), headers=headers)).json()
        assert [a["score_percent"] for a in everything["items"]] == [25, 50, 75]
        theirs = (await client.get(qr.attempts_url(), headers=auth_headers(settings, other))).json()
        assert [a["score_percent"] for a in theirs["items"]] == [100]

    async def test_a_completed_student_still_reads_their_attempts(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        qr = await make_quiz_room(db)
        # The only item: a pass completes the course, and the enrolment becomes COMPLETED.
        r = await submit(client, settings, qr, ALL_RIGHT)
        assert r.json()["progress"]["enrollment_status"] == "COMPLETED"
        listed = await client.get(qr.attempts_url(), headers=auth_headers(settings, qr.room.enrolled))
        assert listed.status_code == 200
        assert listed.json()["total"] == 1

    async def test_staff_read_attempts_through_the_gradebook_not_this_route(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        qr = await make_quiz_room(db)
        r = await client.get(qr.attempts_url(), headers=auth_headers(settings, qr.room.campus.instructor))
        assert r.status_code == 403
        outsider = await client.get(qr.attempts_url(), headers=auth_headers(settings, qr.room.campus.outsider))
        assert outsider.status_code == 404


class TestOldAttemptsKeepTheirGrade:
    async def test_editing_the_key_changes_new_grades_only(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        qr = await make_quiz_room(db)
        # A second item keeps the course open after the pass (a completed enrolment submits no more).
        await make_content_item(db, module=qr.lesson, content_type=qr.room.content_type)
        first = await submit(client, settings, qr, ALL_RIGHT)
        assert first.json()["score_percent"] == 100
        edited = quiz()
        edited["questions"][0]["answer_index"] = 2  # "9" is now the key of q1
        edited["questions"][3]["accepted_answers"] = ["Lutetia"]
        await db.execute(update(ContentItem).where(ContentItem.id == qr.item.id).values(data_json=edited))
        second = await submit(client, settings, qr, ALL_RIGHT)
        assert second.json()["score_percent"] == 50
        listed = (await client.get(qr.attempts_url(), headers=auth_headers(settings, qr.room.enrolled))).json()
        assert [(a["score_percent"], a["passed"]) for a in listed["items"]] == [(100, True), (50, False)]
        assert [x["correct"] for x in listed["items"][0]["results"]] == [True, True, True, True]
        versions = (
            await db.scalars(
                select(QuizAttempt.quiz_version)
                .where(QuizAttempt.content_item_id == qr.item.id)
                .order_by(QuizAttempt.attempt_number)
            )
        ).all()
        assert versions[0] != versions[1]


@pytest.mark.parametrize("policy", ["after_each_attempt", "after_passing", "never"])
def test_the_feedback_policy_parses_from_its_json_string(policy: str) -> None:
    assert parse_quiz(quiz(show_feedback=policy)).show_feedback.value == policy
