"""Request and response shapes for quiz attempts and the gradebook."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from twosigma.enums import EnrollmentStatus
from twosigma.kit.schemas import Schema
from twosigma.progress.schemas import ProgressWriteResult

MAX_ANSWERS = 200  # a quiz holds at most 200 questions (assessments/quiz.py MAX_QUESTIONS)


class AttemptCreate(Schema):
    answers: dict[str, Any] = Field(
        max_length=MAX_ANSWERS,
        description="Question id → answer: a choice index (single_choice), a list of distinct indices "
        "(multiple_choice), a number (numeric) or a text (short_text). A question left out, or null, scores 0.",
    )


class QuestionResultRead(BaseModel):
    question_id: str
    correct: bool | None = Field(description="Null until the quiz's feedback policy releases it.")
    points: float | None = Field(description="Points earned; null until the feedback policy releases it.")
    feedback: str | None = Field(
        default=None, description="The question's explanation, once the feedback policy releases it (null otherwise)."
    )


class AttemptRead(BaseModel):
    id: int
    content_item_id: int
    attempt_number: int
    score_percent: float
    points: float
    max_points: float
    passed: bool
    submitted_at: datetime
    answers: dict[str, Any] = Field(description="The answers as submitted.")
    feedback_released: bool = Field(
        description="Whether the feedback policy releases this attempt's per-question "
        "results (`correct`, `points`, `feedback`)."
    )
    results: list[QuestionResultRead]


class AttemptSubmitted(AttemptRead):
    attempts_remaining: int | None = Field(description="Attempts left at this quiz; null: unlimited.")
    progress: ProgressWriteResult = Field(description="The item's progress after the attempt, and its roll-up.")


class GradebookSort(StrEnum):
    NAME = "name"
    NAME_DESC = "-name"
    PROGRESS = "progress"
    PROGRESS_DESC = "-progress"


class GradebookFormat(StrEnum):
    JSON = "json"
    CSV = "csv"


class GradebookQuiz(BaseModel):
    content_item_id: int
    title: str
    pass_percent: float | None = Field(description="Null when the item's quiz does not parse.")
    max_attempts: int | None = Field(description="Null: unlimited (or the quiz does not parse).")


class GradeCell(BaseModel):
    content_item_id: int
    best_score_percent: float | None = Field(description="The best attempt's score; null before any attempt.")
    attempts_used: int
    passed: bool = Field(description="Some attempt passed.")


class GradebookRow(BaseModel):
    enrollment_id: int
    user_id: int
    full_name: str
    email: str
    enrollment_status: EnrollmentStatus
    progress_percent: int = Field(description="The student's course progress.")
    grades: list[GradeCell] = Field(description="One per quiz, in the order of `quizzes`.")


class Gradebook(BaseModel):
    items: list[GradebookRow]
    page: int
    limit: int
    total: int
    pages: int
    offering_id: int
    quizzes: list[GradebookQuiz] = Field(description="The gradable items students can reach, in course order.")


class QuestionStats(BaseModel):
    question_id: str
    prompt: str | None = Field(description="The question's prompt in the quiz as it is now; null if it was removed.")
    in_current_quiz: bool
    attempts: int = Field(description="Attempts graded on this question.")
    correct: int
    correct_share: float | None = Field(description="correct / attempts, 0..1; null without attempts.")


class ItemStats(BaseModel):
    offering_id: int
    content_item_id: int
    title: str
    attempts: int
    students_attempted: int
    students_passed: int
    pass_rate: float | None = Field(description="students_passed / students_attempted, 0..1; null if nobody tried.")
    mean_score_percent: float | None = Field(description="Mean score over every attempt; null without attempts.")
    mean_best_score_percent: float | None = Field(description="Mean of each student's best score.")
    questions: list[QuestionStats] = Field(
        description="The current quiz's questions in order, then any question only older attempts were graded on."
    )
