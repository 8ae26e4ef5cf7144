"""Attempts: a student's answers graded on the server, stored with what they were graded against, the item's
progress derived from the grade (through the progress domain), and the feedback the quiz's policy releases.

A submit runs in this order: the item must be gradable (409 `not_gradable`) and its stored quiz must parse
(409 `quiz_invalid`); the answers are graded (422 for an unknown question or a wrongly typed answer); then, under a
lock on (student, offering, item), the attempts used so far are counted (409 `attempts_exhausted` at the limit),
the attempt is inserted with the next number, and the progress write runs. The unique (user, offering, item,
attempt number) constraint is the backstop of the lock: a duplicate number is a 409, never a second attempt.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.assessments import repository as repo
from twosigma.assessments.grading import Grade, grade
from twosigma.assessments.models import QuizAttempt
from twosigma.assessments.quiz import FeedbackPolicy, Quiz, parse_quiz, question_version, quiz_version
from twosigma.assessments.schemas import AttemptCreate, AttemptRead, AttemptSubmitted, QuestionResultRead
from twosigma.authz.access.assessments import StudentItem
from twosigma.authz.principal import Principal
from twosigma.content.models import ContentItem
from twosigma.kit.errors import Conflict, Invalid
from twosigma.kit.pagination import Page, PageParams
from twosigma.lti.services import grades as lti_grades
from twosigma.progress import service as progress_service


class NotGradable(Conflict):
    code = "not_gradable"
    default_message = "This item is not a quiz: its content type is not gradable."


class QuizInvalid(Conflict):
    code = "quiz_invalid"
    default_message = "This quiz cannot be graded as it is stored; the course's staff must correct it."


class AttemptsExhausted(Conflict):
    code = "attempts_exhausted"
    default_message = "No attempts are left at this quiz."


class AttemptCollision(Conflict):
    code = "attempt_conflict"
    default_message = "Another attempt at this quiz was submitted at the same moment; try again."


def quiz_of(item: ContentItem) -> Quiz:
    """The item's stored quiz, or 409 `quiz_invalid` (stored before validation existed, or by hand). The parse
    errors are not in the answer: they name the stored fields and values of a quiz its student must not read; the
    course's staff see them when they save the item."""
    try:
        return parse_quiz(item.data_json)
    except Invalid:
        raise QuizInvalid() from None


def quiz_or_none(data: Any) -> Quiz | None:
    """The quiz `data` holds, or None when it does not parse (read paths degrade instead of failing)."""
    try:
        return parse_quiz(data)
    except Invalid:
        return None


# --- Feedback ------------------------------------------------------------------------------------------------------


def feedback_released(quiz: Quiz | None, passed_ever: bool) -> bool:
    """Whether per-question results (correct, points, the explanation) are shown, by the quiz's policy as it is now:
    after_each_attempt → always; after_passing → once the student has passed (any attempt); never → never. A quiz
    that no longer parses releases nothing."""
    if quiz is None:
        return False
    if quiz.show_feedback is FeedbackPolicy.AFTER_EACH_ATTEMPT:
        return True
    if quiz.show_feedback is FeedbackPolicy.AFTER_PASSING:
        return passed_ever
    return False


def _results(stored: Iterable[Mapping[str, Any]], quiz: Quiz | None, released: bool) -> list[QuestionResultRead]:
    """The stored results as released. A question's explanation is the current one, shown only while the question
    grades as it did when the attempt was graded (its stored `version`): never the explanation of a question
    rewritten since under the same id, which the student has not attempted."""
    current = {q.id: (question_version(q), q.explanation) for q in quiz.questions} if quiz is not None else {}

    def feedback(result: Mapping[str, Any]) -> str | None:
        version, explanation = current.get(str(result["question_id"]), (None, None))
        return explanation if version is not None and version == result.get("version") else None

    return [
        QuestionResultRead(
            question_id=str(result["question_id"]),
            correct=bool(result["correct"]) if released else None,
            points=float(result["points"]) if released else None,
            feedback=feedback(result) if released else None,
        )
        for result in stored
    ]


def attempt_read(attempt: QuizAttempt, quiz: Quiz | None, released: bool) -> AttemptRead:
    return AttemptRead(
        id=attempt.id,
        content_item_id=attempt.content_item_id,
        attempt_number=attempt.attempt_number,
        score_percent=attempt.score_percent,
        points=attempt.points,
        max_points=attempt.max_points,
        passed=attempt.passed,
        submitted_at=attempt.submitted_at,
        answers=attempt.answers,
        feedback_released=released,
        results=_results(attempt.results, quiz, released),
    )


# --- Submitting ----------------------------------------------------------------------------------------------------


def _stored_results(quiz: Quiz, graded: Grade) -> list[dict[str, Any]]:
    versions = {q.id: question_version(q) for q in quiz.questions}
    return [
        {
            "question_id": r.question_id,
            "version": versions[r.question_id],
            "correct": r.correct,
            "points": r.points,
            "max_points": r.max_points,
            "answered": r.answered,
        }
        for r in graded.results
    ]


async def submit_attempt(
    session: AsyncSession, principal: Principal, target: StudentItem, body: AttemptCreate, now: datetime
) -> AttemptSubmitted:
    if not target.gradable:
        raise NotGradable()
    quiz = quiz_of(target.item)
    graded = grade(quiz, body.answers)
    offering_id, item_id = target.part.offering.id, target.item.id
    await repo.lock_attempts(session, user_id=principal.id, offering_id=offering_id, item_id=item_id)
    before = await repo.attempt_summary(session, user_id=principal.id, offering_id=offering_id, item_id=item_id)
    if quiz.max_attempts is not None and before.used >= quiz.max_attempts:
        raise AttemptsExhausted(details={"max_attempts": quiz.max_attempts, "attempts_used": before.used})
    attempt = QuizAttempt(
        user_id=principal.id,
        course_offering_id=offering_id,
        content_item_id=item_id,
        attempt_number=before.used + 1,
        quiz_version=quiz_version(quiz),
        answers=dict(body.answers),
        results=_stored_results(quiz, graded),
        points=graded.points,
        max_points=graded.max_points,
        score_percent=graded.score_percent,
        passed=graded.passed,
        submitted_at=now,
    )
    try:
        await repo.add_attempt(session, attempt)
    except IntegrityError as exc:
        raise AttemptCollision() from exc
    # The score goes to every LMS gradebook column bound to this item (lti/), in this transaction.
    await lti_grades.record_attempt(
        session,
        attempt_id=attempt.id,
        user_id=principal.id,
        offering_id=offering_id,
        item_id=item_id,
        score_percent=graded.score_percent,
        submitted_at=now,
    )
    progress = await progress_service.record_graded_attempt(
        session, principal, target.part, item_id, score_percent=graded.score_percent, passed=graded.passed, now=now
    )
    released = feedback_released(quiz, before.passed or graded.passed)
    read = attempt_read(attempt, quiz, released)
    remaining = quiz.max_attempts - attempt.attempt_number if quiz.max_attempts is not None else None
    return AttemptSubmitted(**read.model_dump(), attempts_remaining=remaining, progress=progress)


# --- Reading one's own ---------------------------------------------------------------------------------------------


async def my_attempts(
    session: AsyncSession, principal: Principal, target: StudentItem, params: PageParams
) -> Page[AttemptRead]:
    """The caller's attempts at the item, by attempt number (two queries, three when after_passing must look past
    the page for a pass)."""
    offering_id, item_id = target.part.offering.id, target.item.id
    found = await repo.list_attempts(
        session, user_id=principal.id, offering_id=offering_id, item_id=item_id, params=params
    )
    quiz = quiz_or_none(target.item.data_json) if target.gradable else None
    passed_ever = any(a.passed for a in found.items)
    if not passed_ever and quiz is not None and quiz.show_feedback is FeedbackPolicy.AFTER_PASSING and found.total:
        passed_ever = await repo.passed_any(session, user_id=principal.id, offering_id=offering_id, item_id=item_id)
    released = feedback_released(quiz, passed_ever)
    return Page[AttemptRead](
        items=[attempt_read(a, quiz, released) for a in found.items],
        page=found.page,
        limit=found.limit,
        total=found.total,
        pages=found.pages,
    )


# --- What the tutor knows ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuizStanding:
    """A student's latest attempt at a quiz, for the tutor's prompt: no answer key, and the questions they got
    wrong only as far as the quiz's feedback policy shows them to the student."""

    title: str
    attempt_number: int
    attempts: int
    score_percent: float
    best_score_percent: float
    passed: bool
    feedback_released: bool
    wrong_questions: list[str]  # the question text (its prompt), never a key
    unanswered_questions: list[str]


async def recent_quiz_results(
    session: AsyncSession, *, user_id: int, course_id: int, quizzes: int = 5, questions: int = 5
) -> list[QuizStanding]:
    """The student's latest attempt at each of the course's `quizzes` most recently attempted quizzes (one query).

    The questions answered wrongly are named by their text only while the quiz's feedback policy releases
    per-question results to the student (after_each_attempt; after_passing once passed): the tutor must not tell
    them what the quiz withholds. A question is named only while it grades as it did then (its stored version), so
    a question rewritten since is not shown as one they got wrong. Nothing of a key is read into the result."""
    found = await repo.latest_attempts(session, user_id=user_id, course_id=course_id, limit=quizzes)
    standings = []
    for attempt in found:
        quiz = quiz_or_none(attempt.data_json)
        released = feedback_released(quiz, attempt.passed_ever)
        prompts = {q.id: (question_version(q), q.prompt) for q in quiz.questions} if quiz is not None else {}
        wrong: list[str] = []
        unanswered: list[str] = []
        if released:
            for result in attempt.results:
                if result.get("correct"):
                    continue
                version, text = prompts.get(str(result.get("question_id")), (None, None))
                if text is None or version != result.get("version"):
                    continue
                (wrong if result.get("answered", True) else unanswered).append(text)
        standings.append(
            QuizStanding(
                title=attempt.title,
                attempt_number=attempt.attempt_number,
                attempts=attempt.attempts,
                score_percent=attempt.score_percent,
                best_score_percent=attempt.best_score_percent,
                passed=attempt.passed,
                feedback_released=released,
                wrong_questions=wrong[:questions],
                unanswered_questions=unanswered[:questions],
            )
        )
    return standings


async def erase_user(session: AsyncSession, user_id: int) -> None:
    """An account being erased: its attempts stay (scores and per-question results, for the course's figures) on
    the anonymous tombstone, but the answers as typed go (a free-text answer may say anything about the person)."""
    await repo.clear_answers_of_user(session, user_id)
