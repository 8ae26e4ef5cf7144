"""A quiz: what a gradable content item's `data_json` holds, checked on every write, and its student view.

The definition is the whole item as staff write it (answer keys included). `student_view` is the one function that
decides what anyone who cannot edit the course sees of it: every path that returns item data, and everything sent
to an LLM provider, goes through it.
"""

from __future__ import annotations

import hashlib
import json
import math
from enum import StrEnum
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from twosigma.kit.errors import Invalid

MAX_QUESTIONS = 200
MAX_CHOICES = 50
MAX_ACCEPTED_ANSWERS = 50
MAX_TEXT = 10_000  # a prompt, a choice, an explanation
MAX_SHORT_ANSWER = 1_000  # an accepted answer, and a student's short-text answer


class FeedbackPolicy(StrEnum):
    AFTER_EACH_ATTEMPT = "after_each_attempt"
    AFTER_PASSING = "after_passing"
    NEVER = "never"


# Fields a student never reads: the key of each question type. `explanation` is released by the feedback policy.
KEY_FIELDS = frozenset({"answer_index", "answer_indices", "answer", "tolerance", "accepted_answers", "case_sensitive"})
EXPLANATION = "explanation"

QuestionId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
Text = Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]
Points = Annotated[float, Field(gt=0, le=1_000_000, allow_inf_nan=False)]


class _Question(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    id: QuestionId
    prompt: Text
    explanation: Annotated[str, Field(max_length=MAX_TEXT)] | None = None
    points: Points = 1


class _Choices(_Question):
    choices: Annotated[list[Text], Field(min_length=2, max_length=MAX_CHOICES)]


def _choice_count(info: ValidationInfo) -> int | None:
    """How many choices the question has (validated before its key: `choices` is declared first); None when the
    choices were themselves refused, so that only their own error is reported."""
    choices = info.data.get("choices")
    return len(choices) if isinstance(choices, list) else None


class SingleChoice(_Choices):
    type: Literal["single_choice"]
    answer_index: Annotated[int, Field(ge=0)]

    # A field validator (not a model validator), so the refusal's location names the field.
    @field_validator("answer_index")
    @classmethod
    def _answer_is_a_choice(cls, index: int, info: ValidationInfo) -> int:
        count = _choice_count(info)
        if count is not None and index >= count:
            raise ValueError("answer_index must name one of the choices")
        return index


class MultipleChoice(_Choices):
    type: Literal["multiple_choice"]
    answer_indices: Annotated[list[Annotated[int, Field(ge=0)]], Field(min_length=1)]

    @field_validator("answer_indices")
    @classmethod
    def _answers_are_choices(cls, indices: list[int], info: ValidationInfo) -> list[int]:
        if len(set(indices)) != len(indices):
            raise ValueError("answer_indices must not repeat an index")
        count = _choice_count(info)
        if count is not None and any(index >= count for index in indices):
            raise ValueError("answer_indices must name choices")
        return indices


class Numeric(_Question):
    type: Literal["numeric"]
    answer: Annotated[float, Field(allow_inf_nan=False)]
    tolerance: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0


class ShortText(_Question):
    type: Literal["short_text"]
    accepted_answers: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=MAX_SHORT_ANSWER)]],
        Field(min_length=1, max_length=MAX_ACCEPTED_ANSWERS),
    ]
    case_sensitive: bool = False

    @field_validator("accepted_answers")
    @classmethod
    def _not_blank(cls, answers: list[str]) -> list[str]:
        if any(not answer.strip() for answer in answers):
            raise ValueError("an accepted answer must not be blank")
        return answers


Question = Annotated[SingleChoice | MultipleChoice | Numeric | ShortText, Field(discriminator="type")]
# The discriminator values, which pydantic puts in an error's location after the question's index.
_TYPE_TAGS = frozenset(
    get_args(kind.model_fields["type"].annotation)[0] for kind in (SingleChoice, MultipleChoice, Numeric, ShortText)
)


class Quiz(BaseModel):
    """A gradable item's `data_json`. Other top-level keys are the item's own (instructions, a time estimate) and
    are kept; a question's keys are exactly its type's, so a misspelt key field is refused rather than ignored."""

    model_config = ConfigDict(extra="allow", strict=True)

    pass_percent: Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)] = 70
    max_attempts: Annotated[int, Field(ge=1, le=1000)] | None = None
    # Lax for this field only: strict mode takes an enum member, never its JSON string.
    show_feedback: Annotated[FeedbackPolicy, Field(strict=False)] = FeedbackPolicy.AFTER_EACH_ATTEMPT
    questions: Annotated[list[Question], Field(min_length=1, max_length=MAX_QUESTIONS)]

    @field_validator("questions")
    @classmethod
    def _ids_unique(cls, questions: list[Question]) -> list[Question]:
        seen: set[str] = set()
        for question in questions:
            if question.id in seen:
                raise ValueError(f"question id {question.id!r} is used twice")
            seen.add(question.id)
        return questions

    @property
    def max_points(self) -> float:
        return math.fsum(question.points for question in self.questions)


def parse_quiz(data: Any, *, field: str = "data_json") -> Quiz:
    """`data` as a quiz, or Invalid (422) whose details name the question (its index and id) and the field."""
    try:
        return Quiz.model_validate(data)
    except ValidationError as exc:
        raise Invalid("The quiz is not valid.", details=_details(exc, data, field)) from None


def _details(exc: ValidationError, data: Any, field: str) -> list[dict[str, Any]]:
    questions = data.get("questions") if isinstance(data, dict) else None
    details = []
    for err in exc.errors(include_input=False, include_url=False):
        loc = [part for part in err["loc"] if part not in _TYPE_TAGS]
        entry: dict[str, Any] = {"loc": ["body", field, *loc], "msg": err["msg"], "type": err["type"]}
        if len(loc) >= 2 and loc[0] == "questions" and isinstance(loc[1], int):
            entry["question_index"] = loc[1]
            if isinstance(questions, list) and loc[1] < len(questions) and isinstance(questions[loc[1]], dict):
                qid = questions[loc[1]].get("id")
                if isinstance(qid, str) and len(qid) <= 64:
                    entry["question_id"] = qid
            if len(loc) >= 3:
                entry["field"] = str(loc[2])
        elif loc:
            entry["field"] = str(loc[0])
        details.append(entry)
    return details


def quiz_version(quiz: Quiz) -> str:
    """What an attempt was graded against: a hash of the questions and the pass mark (not of the wording around
    them), so an edit that changes grading is a new version and an attempt's stored score stays as graded."""
    graded = {
        "pass_percent": quiz.pass_percent,
        "questions": [question.model_dump(mode="json") for question in quiz.questions],
    }
    canonical = json.dumps(graded, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def question_version(question: Question) -> str:
    """What one question grades by: a hash of it without its explanation. An old attempt shows a question's current
    explanation only while this is unchanged (an explanation fixed later shows; one of a question rewritten under the
    same id does not)."""
    graded = question.model_dump(mode="json", exclude={"explanation"})
    canonical = json.dumps(graded, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def student_view(data: Any, *, explanations: bool = False) -> Any:
    """A gradable item's `data_json` as a student may read it: every question without its key, and without its
    explanation unless `explanations` (the feedback policy released it). Works on stored data that does not parse
    (written before validation existed): no key field (nor an unreleased explanation) survives at any depth of any
    value — under `questions` (a list, a dict, questions nested in parts), in questions stored under another key
    (sections), or in a valid quiz's extra top-level keys. Returns new containers; `data` is not changed."""
    if not isinstance(data, dict):
        return data
    return _without(data, KEY_FIELDS if explanations else KEY_FIELDS | {EXPLANATION})


def _without(value: Any, hidden: frozenset[str]) -> Any:
    """`value` with every dict entry named in `hidden` removed, at any depth (iteratively: no recursion limit)."""
    if not isinstance(value, dict | list):
        return value
    root: list[Any] = [None]
    stack: list[tuple[Any, list[Any] | dict[str, Any], Any]] = [(value, root, 0)]
    while stack:
        source, parent, slot = stack.pop()
        copy: Any
        if isinstance(source, dict):
            copy = {}
            for name, item in source.items():
                if name in hidden:
                    continue
                if isinstance(item, dict | list):
                    copy[name] = None
                    stack.append((item, copy, name))
                else:
                    copy[name] = item
        else:
            copy = []
            for index, item in enumerate(source):
                if isinstance(item, dict | list):
                    copy.append(None)
                    stack.append((item, copy, index))
                else:
                    copy.append(item)
        parent[slot] = copy
    return root[0]
