"""Grading tables per question type, the quiz definition's validation, and the student view."""

from __future__ import annotations

from typing import Any

import pytest

from twosigma.assessments.grading import grade
from twosigma.assessments.quiz import KEY_FIELDS, parse_quiz, quiz_version, student_view
from twosigma.kit.errors import Invalid


def quiz(*questions: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"pass_percent": 70, "questions": list(questions), **top}


SINGLE = {"id": "q1", "type": "single_choice", "prompt": "Pick", "choices": ["a", "b", "c"], "answer_index": 2}
MULTI = {
    "id": "q2",
    "type": "multiple_choice",
    "prompt": "Pick",
    "choices": ["a", "b", "c", "d"],
    "answer_indices": [0, 3],
}
NUMERIC = {"id": "q3", "type": "numeric", "prompt": "g?", "answer": 9.81, "tolerance": 0.05}
EXACT = {"id": "q5", "type": "numeric", "prompt": "0.3?", "answer": 0.3}
TEXT = {"id": "q4", "type": "short_text", "prompt": "Capital?", "accepted_answers": ["Paris", "Lutetia"]}
CASED = {"id": "q6", "type": "short_text", "prompt": "Symbol?", "accepted_answers": ["NaCl"], "case_sensitive": True}


@pytest.mark.parametrize(
    ("question", "answer", "correct"),
    [
        (SINGLE, 2, True),
        (SINGLE, 0, False),
        (SINGLE, 1, False),
        (MULTI, [0, 3], True),
        (MULTI, [3, 0], True),
        (MULTI, [0], False),
        (MULTI, [0, 1, 3], False),
        (MULTI, [0, 1, 2, 3], False),
        (MULTI, [], False),
        (NUMERIC, 9.81, True),
        (NUMERIC, 9.8, True),
        (NUMERIC, 9.86, True),
        (NUMERIC, 9.87, False),
        (NUMERIC, 9.75, False),
        (NUMERIC, 10, False),
        (EXACT, 0.1 + 0.2, True),
        (EXACT, 0.3001, False),
        (TEXT, "Paris", True),
        (TEXT, "  paris ", True),
        (TEXT, "PARIS", True),
        (TEXT, "lutetia", True),
        (TEXT, "Pari s", False),
        (TEXT, "London", False),
        (TEXT, "", False),
        (CASED, "NaCl", True),
        (CASED, " NaCl  ", True),
        (CASED, "nacl", False),
    ],
)
def test_one_question(question: dict[str, Any], answer: Any, correct: bool) -> None:
    graded = grade(parse_quiz(quiz(question)), {question["id"]: answer})
    assert graded.results[0].correct is correct
    assert graded.score_percent == (100.0 if correct else 0.0)
    assert graded.passed is correct


def test_unicode_text_is_compared_normalised() -> None:
    question = {"id": "q", "type": "short_text", "prompt": "?", "accepted_answers": ["Café"]}
    decomposed = "Cafe\u0301"
    assert grade(parse_quiz(quiz(question)), {"q": decomposed}).results[0].correct
    assert grade(parse_quiz(quiz(question)), {"q": "CAFÉ"}).results[0].correct


def test_points_weights_and_pass_mark() -> None:
    defined = parse_quiz(quiz({**SINGLE, "points": 3}, MULTI, NUMERIC, TEXT, pass_percent=50))
    graded = grade(defined, {"q1": 2, "q2": [0], "q3": 9.8})
    assert graded.max_points == 6
    assert graded.points == 4
    assert graded.score_percent == 66.67
    assert graded.passed
    assert [r.points for r in graded.results] == [3, 0, 1, 0]
    assert [r.answered for r in graded.results] == [True, True, True, False]


def test_pass_mark_is_inclusive() -> None:
    defined = parse_quiz(quiz(SINGLE, TEXT, pass_percent=50))
    assert grade(defined, {"q1": 2}).passed
    assert not grade(defined, {"q1": 0}).passed


def test_missing_and_null_answers_score_zero() -> None:
    defined = parse_quiz(quiz(SINGLE, TEXT))
    graded = grade(defined, {"q1": None})
    assert graded.points == 0
    assert not graded.passed
    assert [r.answered for r in graded.results] == [False, False]


@pytest.mark.parametrize(
    ("answers", "kind"),
    [
        ({"nope": 1}, "unknown_question"),
        ({"q1": True}, "wrong_answer_type"),
        ({"q1": "2"}, "wrong_answer_type"),
        ({"q1": 3}, "wrong_answer_type"),
        ({"q1": -1}, "wrong_answer_type"),
        ({"q1": 2.0}, "wrong_answer_type"),
        ({"q2": 0}, "wrong_answer_type"),
        ({"q2": [0, 0]}, "wrong_answer_type"),
        ({"q2": [0, 9]}, "wrong_answer_type"),
        ({"q2": [False]}, "wrong_answer_type"),
        ({"q3": "9.8"}, "wrong_answer_type"),
        ({"q3": True}, "wrong_answer_type"),
        ({"q3": float("nan")}, "wrong_answer_type"),
        ({"q3": float("inf")}, "wrong_answer_type"),
        ({"q4": 5}, "wrong_answer_type"),
        ({"q4": "x" * 1001}, "wrong_answer_type"),
    ],
)
def test_ungradable_answers_are_422(answers: dict[str, Any], kind: str) -> None:
    defined = parse_quiz(quiz(SINGLE, MULTI, NUMERIC, TEXT))
    with pytest.raises(Invalid) as caught:
        grade(defined, answers)
    (detail,) = caught.value.details
    assert detail["type"] == kind
    assert detail["question_id"] == next(iter(answers))


def test_grading_is_deterministic() -> None:
    defined = parse_quiz(quiz(SINGLE, MULTI, NUMERIC, TEXT))
    answers = {"q1": 2, "q2": [3, 0], "q3": 9.79, "q4": "paris"}
    assert grade(defined, answers) == grade(defined, dict(reversed(answers.items())))
    assert grade(defined, answers).score_percent == 100


# --- the definition ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "field"),
    [
        ({**SINGLE, "answer_index": 3}, None),
        ({**SINGLE, "answer_index": True}, "answer_index"),
        ({**SINGLE, "choices": ["only one"]}, "choices"),
        ({**SINGLE, "answer_idx": 1}, "answer_idx"),
        ({**MULTI, "answer_indices": [0, 0]}, None),
        ({**MULTI, "answer_indices": []}, "answer_indices"),
        ({**NUMERIC, "answer": "9.81"}, "answer"),
        ({**NUMERIC, "tolerance": -1}, "tolerance"),
        ({**NUMERIC, "answer": float("nan")}, "answer"),
        ({**TEXT, "accepted_answers": []}, "accepted_answers"),
        ({**TEXT, "accepted_answers": ["  "]}, "accepted_answers"),
        ({**TEXT, "case_sensitive": "no"}, "case_sensitive"),
        ({**SINGLE, "points": 0}, "points"),
        ({**SINGLE, "prompt": ""}, "prompt"),
        ({**SINGLE, "type": "essay"}, None),
        ({"id": "q9", "prompt": "?"}, None),
    ],
)
def test_invalid_questions_name_the_question_and_field(question: dict[str, Any], field: str | None) -> None:
    with pytest.raises(Invalid) as caught:
        parse_quiz(quiz(TEXT, question))
    details = caught.value.details
    assert details
    assert all(d["question_index"] == 1 for d in details)
    assert all(d["loc"][:4] == ["body", "data_json", "questions", 1] for d in details)
    if field is not None:
        assert any(d.get("field") == field for d in details), details
    if "id" in question:
        assert all(d.get("question_id") == question["id"] for d in details)


@pytest.mark.parametrize(
    "data",
    [
        [],
        {"questions": []},
        {"questions": [SINGLE, dict(SINGLE)]},
        {"questions": [SINGLE], "pass_percent": 101},
        {"questions": [SINGLE], "max_attempts": 0},
        {"questions": [SINGLE], "show_feedback": "sometimes"},
        {"pass_percent": 70},
    ],
)
def test_invalid_quizzes(data: Any) -> None:
    with pytest.raises(Invalid):
        parse_quiz(data)


def test_defaults_and_kept_keys() -> None:
    defined = parse_quiz({"questions": [SINGLE], "instructions": "Take your time."})
    assert defined.pass_percent == 70
    assert defined.max_attempts is None
    assert defined.show_feedback == "after_each_attempt"
    assert defined.questions[0].points == 1
    assert defined.model_dump()["instructions"] == "Take your time."


def test_version_follows_what_grading_reads() -> None:
    base = parse_quiz(quiz(SINGLE, TEXT))
    assert quiz_version(base) == quiz_version(parse_quiz(quiz(SINGLE, TEXT, instructions="new wording around")))
    assert quiz_version(base) != quiz_version(parse_quiz(quiz({**SINGLE, "answer_index": 1}, TEXT)))
    assert quiz_version(base) != quiz_version(parse_quiz(quiz(SINGLE, TEXT, pass_percent=80)))


# --- the student view ----------------------------------------------------------------------------------------------


def _keys_in(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | set().union(*(_keys_in(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_keys_in(v) for v in value))
    return set()


def test_student_view_has_no_key() -> None:
    data = quiz({**SINGLE, "explanation": "because"}, MULTI, NUMERIC, {**TEXT, "case_sensitive": True}, max_attempts=3)
    view = student_view(data)
    assert not _keys_in(view) & (KEY_FIELDS | {"explanation"})
    assert view["questions"][0] == {"id": "q1", "type": "single_choice", "prompt": "Pick", "choices": ["a", "b", "c"]}
    assert view["max_attempts"] == 3
    assert view["pass_percent"] == 70
    assert data["questions"][0]["answer_index"] == 2  # the stored definition is not changed
    released = student_view(data, explanations=True)
    assert released["questions"][0]["explanation"] == "because"
    assert not _keys_in(released) & KEY_FIELDS


@pytest.mark.parametrize(
    "data",
    [
        {"questions": [{"prompt": "old form", "choices": ["a", "b"], "answer_index": 1}]},
        {"questions": "not a list", "answer": 3},
        {"questions": [1, "two", {"answer_indices": [1]}]},
        ["a", "list"],
        None,
    ],
)
def test_student_view_of_data_that_does_not_parse(data: Any) -> None:
    assert not _keys_in(student_view(data)) & KEY_FIELDS


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (quiz({**SINGLE, "choices": ["c"] * 51, "answer_index": 0}), "choices"),
        (quiz({**TEXT, "accepted_answers": ["a"] * 51}), "accepted_answers"),
        (quiz({**TEXT, "accepted_answers": ["a" * 1001]}), "accepted_answers"),
        (quiz({**SINGLE, "prompt": "p" * 10_001}), "prompt"),
        ({"questions": [{**SINGLE, "id": f"q{n}"} for n in range(201)]}, "questions"),
    ],
)
def test_limits(data: dict[str, Any], field: str) -> None:
    with pytest.raises(Invalid) as caught:
        parse_quiz(data)
    assert any(d.get("field") == field for d in caught.value.details)
