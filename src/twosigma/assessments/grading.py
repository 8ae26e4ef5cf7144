"""Grading: a quiz and a student's answers in, a score out. Pure and deterministic (no clock, no database).

Rules, per question type:
- single_choice: the answer is a choice index (an integer, not a boolean); correct when it is the key's.
- multiple_choice: a list of distinct choice indices; correct when it is exactly the key's set (all or nothing:
  no partial credit, so guessing every box earns nothing).
- numeric: a finite number; correct when within `tolerance` of the key (plus a relative 1e-9, so that 0.1 + 0.2
  style representation error never fails an exact answer).
- short_text: a string; trimmed, inner whitespace runs collapsed, Unicode NFC, and case-folded unless the question
  is `case_sensitive`, then compared with each accepted answer treated the same way.
A question that was not answered scores 0. An answer to an unknown question id, or of the wrong type for its
question, makes the whole submission invalid (422) rather than silently scoring it 0.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from twosigma.assessments.quiz import (
    MAX_SHORT_ANSWER,
    MultipleChoice,
    Numeric,
    Question,
    Quiz,
    ShortText,
    SingleChoice,
)
from twosigma.kit.errors import Invalid

RELATIVE_EPSILON = 1e-9


@dataclass(frozen=True, slots=True)
class QuestionResult:
    question_id: str
    correct: bool
    points: float
    max_points: float
    answered: bool


@dataclass(frozen=True, slots=True)
class Grade:
    results: tuple[QuestionResult, ...]
    points: float
    max_points: float
    score_percent: float
    passed: bool


def grade(quiz: Quiz, answers: Mapping[str, Any]) -> Grade:
    """The grade of `answers` (question id → answer) against `quiz`; Invalid when an answer cannot be graded."""
    check_answers(quiz, answers)
    results = []
    for question in quiz.questions:
        answered = question.id in answers and answers[question.id] is not None
        correct = answered and is_correct(question, answers[question.id])
        results.append(
            QuestionResult(
                question_id=question.id,
                correct=correct,
                points=question.points if correct else 0.0,
                max_points=question.points,
                answered=answered,
            )
        )
    points = math.fsum(result.points for result in results)
    max_points = quiz.max_points
    score = round(100 * points / max_points, 2) if max_points > 0 else 0.0
    return Grade(
        results=tuple(results),
        points=points,
        max_points=max_points,
        score_percent=score,
        passed=score >= quiz.pass_percent,
    )


def check_answers(quiz: Quiz, answers: Mapping[str, Any]) -> None:
    by_id = {question.id: question for question in quiz.questions}
    problems = []
    for question_id, answer in answers.items():
        question = by_id.get(question_id)
        if question is None:
            problems.append(_problem(question_id, "unknown_question", "No question has this id."))
        elif answer is not None and (reason := answer_problem(question, answer)) is not None:
            problems.append(_problem(question_id, "wrong_answer_type", reason))
    if problems:
        raise Invalid("The answers are not valid.", details=problems)


def _problem(question_id: str, kind: str, message: str) -> dict[str, Any]:
    shown = question_id if len(question_id) <= 64 else question_id[:64] + "…"
    return {"loc": ["body", "answers", shown], "msg": message, "type": kind, "question_id": shown}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def answer_problem(question: Question, answer: Any) -> str | None:
    """Why `answer` cannot be an answer to `question` (None: it can)."""
    if isinstance(question, SingleChoice):
        if not _is_int(answer) or not 0 <= answer < len(question.choices):
            return f"An index of one of the {len(question.choices)} choices is expected."
    elif isinstance(question, MultipleChoice):
        if (
            not isinstance(answer, list)
            or not all(_is_int(index) and 0 <= index < len(question.choices) for index in answer)
            or len(set(answer)) != len(answer)
        ):
            return "A list of distinct choice indices is expected."
    elif isinstance(question, Numeric):
        if isinstance(answer, bool) or not isinstance(answer, int | float) or not math.isfinite(answer):
            return "A finite number is expected."
    elif isinstance(question, ShortText):
        if not isinstance(answer, str) or len(answer) > MAX_SHORT_ANSWER:
            return f"A text of at most {MAX_SHORT_ANSWER} characters is expected."
    return None


def is_correct(question: Question, answer: Any) -> bool:
    if isinstance(question, SingleChoice):
        return bool(answer == question.answer_index)
    if isinstance(question, MultipleChoice):
        return set(answer) == set(question.answer_indices)
    if isinstance(question, Numeric):
        slack = question.tolerance + RELATIVE_EPSILON * max(1.0, abs(question.answer))
        return abs(float(answer) - question.answer) <= slack
    if isinstance(question, ShortText):
        given = normalise_text(answer, question.case_sensitive)
        return any(given == normalise_text(accepted, question.case_sensitive) for accepted in question.accepted_answers)
    raise TypeError(f"unknown question type {type(question).__name__}")  # pragma: no cover - the union is closed


def normalise_text(text: str, case_sensitive: bool) -> str:
    collapsed = " ".join(unicodedata.normalize("NFC", text).split())
    return collapsed if case_sensitive else collapsed.casefold()
