"""The gradebook of an offering: one row per student with each quiz's best score, attempts used and pass, and the
course progress; as a page (JSON) or the whole roster as CSV; and one quiz's attempt statistics.

Queries are set-based, so their number does not grow with the roster: the quizzes (one recursive query), the
roster's count (JSON only), the roster's rows with their progress (the progress domain's staff view, as a
subquery), and the grades of those students (one grouped query).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.assessments import repository as repo
from twosigma.assessments.schemas import (
    Gradebook,
    GradebookQuiz,
    GradebookRow,
    GradebookSort,
    GradeCell,
    ItemStats,
    QuestionStats,
)
from twosigma.assessments.service import NotGradable, quiz_or_none
from twosigma.authz.access.assessments import StaffItem
from twosigma.courses.models import CourseOffering
from twosigma.kit.pagination import PageParams


@dataclass(frozen=True)
class GradebookTable:
    quizzes: list[GradebookQuiz]
    rows: list[GradebookRow]


async def _quizzes(session: AsyncSession, course_id: int) -> list[GradebookQuiz]:
    quizzes = []
    for item in await repo.reachable_gradable_items(session, course_id):
        quiz = quiz_or_none(item.data_json)
        quizzes.append(
            GradebookQuiz(
                content_item_id=item.id,
                title=item.title,
                pass_percent=quiz.pass_percent if quiz is not None else None,
                max_attempts=quiz.max_attempts if quiz is not None else None,
            )
        )
    return quizzes


async def _rows(
    session: AsyncSession,
    offering: CourseOffering,
    quizzes: Sequence[GradebookQuiz],
    *,
    sort: GradebookSort,
    limit: int | None,
    offset: int,
) -> list[GradebookRow]:
    roster = await repo.roster_rows(
        session, offering.id, offering.course_id, sort=sort.value, limit=limit, offset=offset
    )
    item_ids = [q.content_item_id for q in quizzes]
    # The whole roster (CSV): every grade of the offering, without a list of thousands of ids in the statement.
    user_ids = [r.user_id for r in roster] if limit is not None else None
    found = await repo.grades(session, offering.id, item_ids, user_ids) if roster else {}
    rows = []
    for r in roster:
        cells = []
        for item_id in item_ids:
            g = found.get((r.user_id, item_id))
            cells.append(
                GradeCell(
                    content_item_id=item_id,
                    best_score_percent=g.best_score_percent if g else None,
                    attempts_used=g.attempts_used if g else 0,
                    passed=g.passed if g else False,
                )
            )
        rows.append(
            GradebookRow(
                enrollment_id=r.enrollment_id,
                user_id=r.user_id,
                full_name=r.full_name,
                email=r.email,
                enrollment_status=r.enrollment_status,
                progress_percent=r.progress_percent,
                grades=cells,
            )
        )
    return rows


async def gradebook_page(
    session: AsyncSession, offering: CourseOffering, sort: GradebookSort, params: PageParams
) -> Gradebook:
    quizzes = await _quizzes(session, offering.course_id)
    total = await repo.roster_count(session, offering.id, offering.course_id)
    rows = await _rows(session, offering, quizzes, sort=sort, limit=params.limit, offset=params.offset)
    return Gradebook(
        items=rows,
        page=params.page,
        limit=params.limit,
        total=total,
        pages=-(-total // params.limit) if total else 0,
        offering_id=offering.id,
        quizzes=quizzes,
    )


async def gradebook_table(session: AsyncSession, offering: CourseOffering, sort: GradebookSort) -> GradebookTable:
    """Every student of the roster (no page), for the CSV."""
    quizzes = await _quizzes(session, offering.course_id)
    return GradebookTable(quizzes, await _rows(session, offering, quizzes, sort=sort, limit=None, offset=0))


# --- CSV -----------------------------------------------------------------------------------------------------------

# A cell a spreadsheet would run as a formula (a student may name themselves "=HYPERLINK(…)") gets a leading
# apostrophe, the OWASP mitigation: shown as text, never evaluated.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _text(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}".rstrip("0")


def csv_header(quizzes: Sequence[GradebookQuiz]) -> list[str]:
    header = ["user_id", "full_name", "email", "enrollment_status", "course_progress_percent"]
    for quiz in quizzes:
        name = _text(f"{quiz.title} [#{quiz.content_item_id}]")
        header += [f"{name} best_score_percent", f"{name} attempts_used", f"{name} passed"]
    return header


def csv_lines(table: GradebookTable) -> Iterator[str]:
    """The CSV, one line at a time (RFC 4180 quoting, CRLF line ends): a header, then one line per student."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(cells: list[str]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(cells)
        return buffer.getvalue()

    yield line(csv_header(table.quizzes))
    for row in table.rows:
        cells = [
            str(row.user_id),
            _text(row.full_name),
            _text(row.email),
            row.enrollment_status.value,
            str(row.progress_percent),
        ]
        for cell in row.grades:
            cells += [_number(cell.best_score_percent), str(cell.attempts_used), "true" if cell.passed else "false"]
        yield line(cells)


# --- One quiz's statistics -----------------------------------------------------------------------------------------


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


async def item_stats(session: AsyncSession, target: StaffItem) -> ItemStats:
    """Every attempt at the item in the offering (whoever made it, enrolled now or not): three queries."""
    if not target.gradable:
        raise NotGradable()
    offering_id, item = target.offering.id, target.item
    totals = await repo.item_totals(session, offering_id, item.id)
    per_question = await repo.question_totals(session, offering_id, item.id)
    quiz = quiz_or_none(item.data_json)
    prompts = {q.id: q.prompt for q in quiz.questions} if quiz is not None else {}
    order = list(prompts) + sorted(set(per_question) - set(prompts))
    questions = []
    for question_id in order:
        counts = per_question.get(question_id, repo.QuestionTotals(0, 0))
        questions.append(
            QuestionStats(
                question_id=question_id,
                prompt=prompts.get(question_id),
                in_current_quiz=question_id in prompts,
                attempts=counts.attempts,
                correct=counts.correct,
                correct_share=_share(counts.correct, counts.attempts),
            )
        )
    return ItemStats(
        offering_id=offering_id,
        content_item_id=item.id,
        title=item.title,
        attempts=totals.attempts,
        students_attempted=totals.students_attempted,
        students_passed=totals.students_passed,
        pass_rate=_share(totals.students_passed, totals.students_attempted),
        mean_score_percent=round(totals.mean_score, 2) if totals.mean_score is not None else None,
        mean_best_score_percent=round(totals.mean_best, 2) if totals.mean_best is not None else None,
        questions=questions,
    )
