"""GET /offerings/{id}/gradebook (JSON pages, sorting, CSV) and GET …/gradebook/items/{item}: numbers checked by hand
on a small class, who may read them, and a query count that does not grow with the roster."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from tests.fixtures.assessments import QuizRoom, answers, make_quiz_item, make_quiz_room, quiz
from tests.fixtures.content import make_content_item, make_enrollment, make_module, root_of
from tests.fixtures.factories import auth_headers, make_member
from tests.fixtures.tenancy import count_statements
from twosigma.assessments.models import QuizAttempt
from twosigma.config import Settings
from twosigma.content.models import ContentItem
from twosigma.enrollments.models import CourseEnrollment
from twosigma.enums import EnrollmentStatus, UserRole
from twosigma.users.models import User


@dataclass
class Class:
    qr: QuizRoom
    quiz_b: ContentItem
    hidden_quiz: ContentItem
    students: dict[str, User]
    staff: dict[str, str]  # bearer headers of the instructor

    def headers(self) -> dict[str, str]:
        return self.staff


async def make_class(db: AsyncSession, client: httpx.AsyncClient, settings: Settings) -> Class:
    """Quiz A (pass 70, unlimited) in lesson 1; quiz B (pass 50) and a reading in lesson 2; quiz C unpublished.

    Scores (answers(k): the first k of 4 questions right, 25 * k):
      Ada   A: 25, 100   B: 50   → A best 100 passed, B best 50 passed; progress (100 + 100 + 0) // 3 = 66
      Bea   A: 50, 75            → A best 75 passed;                    progress 100 // 3 = 33
      Cy    A: 25        B: 0    → A best 25, B best 0, neither passed; progress 25 // 3 = 8
      Dora  nothing (ACTIVE), Fay nothing (COMPLETED): progress 0
      Eve   A: 100, then DROPPED: not a row of the gradebook, but her attempt counts in A's statistics.
    """
    qr = await make_quiz_room(db, quiz(max_attempts=None))
    root = await root_of(db, qr.room.course)
    lesson_2 = await make_module(db, parent=root)
    quiz_b = await make_quiz_item(db, module=lesson_2, quiz_type=qr.quiz_type, data=quiz(pass_percent=50), title="B")
    await make_content_item(db, module=lesson_2, content_type=qr.room.content_type, title="Reading")
    draft = await make_module(db, parent=root, is_published=False)
    hidden_quiz = await make_quiz_item(db, module=draft, quiz_type=qr.quiz_type, title="C")
    await db.execute(update(ContentItem).where(ContentItem.id == qr.item.id).values(title="A"))

    campus = qr.room.campus
    students = {"Dora": qr.room.enrolled}
    qr.room.enrolled.full_name = "Dora"
    for name in ("Ada", "Bea", "Cy", "Eve", "Fay"):
        students[name] = await make_member(db, campus.university, UserRole.STUDENT, full_name=name)
        state = EnrollmentStatus.COMPLETED if name == "Fay" else EnrollmentStatus.ACTIVE
        await make_enrollment(db, user=students[name], offering=campus.offering, status=state)
    await db.flush()

    async def attempt(name: str, item: ContentItem, right: int) -> None:
        r = await client.post(
            qr.attempts_url(item),
            json={"answers": answers(right)},
            headers=auth_headers(settings, students[name]),
        )
        assert r.status_code == 201, r.text

    for name, item, right in (
        ("Ada", qr.item, 1),
        ("Ada", qr.item, 4),
        ("Ada", quiz_b, 2),
        ("Bea", qr.item, 2),
        ("Bea", qr.item, 3),
        ("Cy", qr.item, 1),
        ("Cy", quiz_b, 0),
        ("Eve", qr.item, 4),
    ):
        await attempt(name, item, right)
    await db.execute(
        update(CourseEnrollment)
        .where(CourseEnrollment.user_id == students["Eve"].id)
        .values(status=EnrollmentStatus.DROPPED)
    )
    return Class(qr, quiz_b, hidden_quiz, students, auth_headers(settings, campus.instructor))


def summary(row: dict[str, Any]) -> tuple[Any, ...]:
    return (
        row["full_name"],
        row["progress_percent"],
        [(g["best_score_percent"], g["attempts_used"], g["passed"]) for g in row["grades"]],
    )


EXPECTED = {
    "Ada": ("Ada", 66, [(100, 2, True), (50, 1, True)]),
    "Bea": ("Bea", 33, [(75, 2, True), (None, 0, False)]),
    "Cy": ("Cy", 8, [(25, 1, False), (0, 1, False)]),
    "Dora": ("Dora", 0, [(None, 0, False), (None, 0, False)]),
    "Fay": ("Fay", 0, [(None, 0, False), (None, 0, False)]),
}


class TestGradebook:
    async def test_rows_columns_and_numbers_by_hand(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        c = await make_class(db, client, settings)
        r = await client.get(c.qr.gradebook_url, headers=c.headers())
        assert r.status_code == 200, r.text
        body = r.json()
        assert [(q["content_item_id"], q["title"], q["pass_percent"], q["max_attempts"]) for q in body["quizzes"]] == [
            (c.qr.item.id, "A", 70, None),
            (c.quiz_b.id, "B", 50, 3),
        ]
        assert (body["total"], body["pages"], body["offering_id"]) == (5, 1, c.qr.offering_id)
        assert [summary(row) for row in body["items"]] == list(EXPECTED.values())
        fay = body["items"][-1]
        assert (fay["enrollment_status"], fay["user_id"]) == ("COMPLETED", c.students["Fay"].id)
        assert [g["content_item_id"] for g in fay["grades"]] == [c.qr.item.id, c.quiz_b.id]

    @pytest.mark.parametrize(
        ("sort", "order"),
        [
            ("name", ["Ada", "Bea", "Cy", "Dora", "Fay"]),
            ("-name", ["Fay", "Dora", "Cy", "Bea", "Ada"]),
            ("progress", ["Dora", "Fay", "Cy", "Bea", "Ada"]),
            ("-progress", ["Ada", "Bea", "Cy", "Dora", "Fay"]),
        ],
    )
    async def test_sorted_and_paginated(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, sort: str, order: list[str]
    ) -> None:
        c = await make_class(db, client, settings)
        names = []
        for page in (1, 2, 3):
            r = await client.get(
                c.qr.gradebook_url, params={"sort": sort, "limit": 2, "page": page}, headers=c.headers()
            )
            assert (r.json()["total"], r.json()["pages"]) == (5, 3)
            names += [row["full_name"] for row in r.json()["items"]]
        assert names == order

    async def test_an_unknown_sort_is_422(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        qr = await make_quiz_room(db)
        headers = auth_headers(settings, qr.room.campus.instructor)
        r = await client.get(qr.gradebook_url, params={"sort": "email"}, headers=headers)
        assert r.status_code == 422

    async def test_csv_has_the_same_columns_and_every_student_whatever_the_page(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        c = await make_class(db, client, settings)
        r = await client.get(
            c.qr.gradebook_url, params={"format": "csv", "limit": 1, "sort": "-progress"}, headers=c.headers()
        )
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "text/csv; charset=utf-8"
        assert r.headers["content-disposition"] == f'attachment; filename="gradebook-offering-{c.qr.offering_id}.csv"'
        rows = list(csv.reader(io.StringIO(r.content.decode("utf-8"))))
        a, b = f"A [#{c.qr.item.id}]", f"B [#{c.quiz_b.id}]"
        assert rows[0] == [
            "user_id",
            "full_name",
            "email",
            "enrollment_status",
            "course_progress_percent",
            f"{a} best_score_percent",
            f"{a} attempts_used",
            f"{a} passed",
            f"{b} best_score_percent",
            f"{b} attempts_used",
            f"{b} passed",
        ]
        assert len(rows) == 1 + 5
        by_name = {row[1]: row for row in rows[1:]}
        assert [row[1] for row in rows[1:]] == ["Ada", "Bea", "Cy", "Dora", "Fay"]
        ada = c.students["Ada"]
        assert by_name["Ada"] == [str(ada.id), "Ada", ada.email, "ACTIVE", "66", "100", "2", "true", "50", "1", "true"]
        assert by_name["Bea"][4:] == ["33", "75", "2", "true", "", "0", "false"]
        assert by_name["Cy"][4:] == ["8", "25", "1", "false", "0", "1", "false"]
        assert by_name["Fay"][3:] == ["COMPLETED", "0", "", "0", "false", "", "0", "false"]

    async def test_csv_is_utf8_and_defuses_formulas(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        qr = await make_quiz_room(db)
        qr.room.enrolled.full_name = '=HYPERLINK("http://evil"); Zoë, "the" hacker'
        await db.flush()
        headers = auth_headers(settings, qr.room.campus.instructor)
        r = await client.get(qr.gradebook_url, params={"format": "csv"}, headers=headers)
        rows = list(csv.reader(io.StringIO(r.content.decode("utf-8"))))
        assert rows[1][1] == '\'=HYPERLINK("http://evil"); Zoë, "the" hacker'

    async def test_an_offering_without_students_or_quizzes(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        qr = await make_quiz_room(db)
        await db.execute(
            update(CourseEnrollment)
            .where(CourseEnrollment.course_offering_id == qr.offering_id)
            .values(status=EnrollmentStatus.DROPPED)
        )
        headers = auth_headers(settings, qr.room.campus.instructor)
        body = (await client.get(qr.gradebook_url, headers=headers)).json()
        assert (body["items"], body["total"], body["pages"]) == ([], 0, 0)
        lines = (await client.get(qr.gradebook_url, params={"format": "csv"}, headers=headers)).text.splitlines()
        assert len(lines) == 1


class TestWhoMayRead:
    @pytest.mark.parametrize(
        ("who", "status"),
        [("instructor", 200), ("ta", 200), ("admin", 200), ("enrolled", 403), ("student", 403), ("outsider", 404)],
    )
    async def test_the_staff_who_read_the_offerings_progress(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, who: str, status: int
    ) -> None:
        qr = await make_quiz_room(db)
        campus = qr.room.campus
        user = {
            "instructor": campus.instructor,
            "ta": campus.ta,
            "admin": campus.admin,
            "enrolled": qr.room.enrolled,
            "student": campus.student,
            "outsider": campus.outsider_admin,
        }[who]
        headers = auth_headers(settings, user)
        for url, params in (
            (qr.gradebook_url, {}),
            (qr.gradebook_url, {"format": "csv"}),
            (qr.stats_url(), {}),
        ):
            r = await client.get(url, params=params, headers=headers)
            assert r.status_code == status, (url, params, r.text)


class TestItemStatistics:
    async def test_numbers_by_hand_with_a_question_the_quiz_no_longer_has(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        c = await make_class(db, client, settings)
        # q4 is replaced by q5 after the attempts: the statistics keep q4's figures, after the current questions.
        edited = quiz(max_attempts=None)
        edited["questions"][3] = {"id": "q5", "type": "numeric", "prompt": "1 + 1?", "answer": 2}
        await db.execute(update(ContentItem).where(ContentItem.id == c.qr.item.id).values(data_json=edited))
        r = await client.get(c.qr.stats_url(), headers=c.headers())
        assert r.status_code == 200, r.text
        body = r.json()
        # A: Ada 25, 100; Bea 50, 75; Cy 25; Eve 100 (dropped since, still counted).
        assert (body["attempts"], body["students_attempted"], body["students_passed"]) == (6, 4, 3)
        assert body["pass_rate"] == 0.75
        assert body["mean_score_percent"] == 62.5  # 375 / 6
        assert body["mean_best_score_percent"] == 75  # (100 + 75 + 25 + 100) / 4
        assert [
            (q["question_id"], q["in_current_quiz"], q["attempts"], q["correct"], q["correct_share"])
            for q in body["questions"]
        ] == [
            ("q1", True, 6, 6, 1.0),
            ("q2", True, 6, 4, 0.6667),
            ("q3", True, 6, 3, 0.5),
            ("q5", True, 0, 0, None),
            ("q4", False, 6, 2, 0.3333),
        ]
        assert body["questions"][0]["prompt"] == "Which is prime?"
        assert body["questions"][-1]["prompt"] is None

    async def test_a_quiz_without_attempts_and_an_unpublished_one(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        c = await make_class(db, client, settings)
        body = (await client.get(c.qr.stats_url(c.hidden_quiz), headers=c.headers())).json()
        assert (body["attempts"], body["students_attempted"], body["pass_rate"], body["mean_score_percent"]) == (
            0,
            0,
            None,
            None,
        )
        assert [q["correct_share"] for q in body["questions"]] == [None, None, None, None]

    async def test_not_gradable_is_409_and_another_courses_item_404(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        qr = await make_quiz_room(db)
        reading = await make_content_item(db, module=qr.lesson, content_type=qr.room.content_type)
        headers = auth_headers(settings, qr.room.campus.instructor)
        r = await client.get(qr.stats_url(reading), headers=headers)
        assert (r.status_code, r.json()["error"]["code"]) == (409, "not_gradable")
        other = await make_quiz_room(db)
        r = await client.get(qr.stats_url(other.item), headers=headers)
        assert r.status_code == 404


class TestQueryCount:
    async def test_constant_in_the_number_of_students(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, db_engine: AsyncEngine
    ) -> None:
        rooms = []
        for size in (3, 30):
            qr = await make_quiz_room(db)
            for n in range(size):
                student = await make_member(db, qr.room.campus.university, UserRole.STUDENT)
                await make_enrollment(db, user=student, offering=qr.room.campus.offering)
                db.add(
                    QuizAttempt(
                        user_id=student.id,
                        course_offering_id=qr.offering_id,
                        content_item_id=qr.item.id,
                        attempt_number=1,
                        quiz_version="v",
                        answers={},
                        results=[{"question_id": "q1", "correct": n % 2 == 0, "points": 1, "max_points": 1}],
                        points=1,
                        max_points=4,
                        score_percent=25,
                        passed=False,
                    )
                )
            await db.flush()
            rooms.append(qr)
        counts = []
        for qr in rooms:
            headers = auth_headers(settings, qr.room.campus.instructor)
            per_route = []
            for url, params in (
                (qr.gradebook_url, {"limit": 100}),
                (qr.gradebook_url, {"format": "csv"}),
                (qr.stats_url(), {}),
            ):
                with count_statements(db_engine) as counter:
                    r = await client.get(url, params=params, headers=headers)
                assert r.status_code == 200, r.text
                per_route.append(counter.count)
            counts.append(per_route)
        assert counts[0] == counts[1], counts
