"""Content of one item, derived from (seed, item id) alone so that chat snapshots can rebuild it later without
keeping a million items in memory."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from twosigma.assessments.views import item_data_for
from twosigma.demo.vocab import CONTENT_TYPES, TOPIC_WORDS, VERBS

TYPE_NAMES = [name for name, *_ in CONTENT_TYPES]
# The demo's gradable types (vocab.CONTENT_TYPES): only `quiz`, the built-in one.
GRADABLE = frozenset({"quiz"})
QUESTION_KINDS = ["single_choice", "multiple_choice", "numeric", "short_text"]
QUESTION_WEIGHTS = [6, 2, 1, 1]
TYPE_WEIGHTS = [weight for _, _, _, weight, _ in CONTENT_TYPES]
DURATIONS = {name: bounds for name, _, _, _, bounds in CONTENT_TYPES}


@dataclass(frozen=True)
class ItemContent:
    title: str
    description: str
    data: dict[str, Any]
    objectives: list[str]
    duration: int


def item_rng(seed: int, item_id: int) -> random.Random:
    return random.Random(seed * 1_000_003 + item_id)


def make_item(seed: int, item_id: int, type_name: str, subject: str) -> ItemContent:
    rng = item_rng(seed, item_id)
    topic = rng.choice(TOPIC_WORDS)
    title = f"{topic}: {subject}" if type_name in ("reading", "video") else f"{type_name.title()} - {topic}"
    description = f"{topic} in {subject}, {type_name} format."
    # Distinct verbs: the same objective twice on one item read as a copy-paste slip.
    objectives = [f"{verb} {topic.lower()} in {subject}" for verb in rng.sample(VERBS, rng.randint(2, 3))]
    low, high = DURATIONS[type_name]
    duration = rng.randint(low // 60, high // 60) * 60
    data: dict[str, Any]
    if type_name == "video":
        data = {
            "url": f"https://media.demo.twosigma.dev/v/{item_id}.mp4",
            "duration_seconds": duration,
            "captions": ["en"],
            "transcript_excerpt": f"In this video we look at {topic.lower()} through examples from {subject}.",
        }
    elif type_name == "reading":
        data = {
            "format": "markdown",
            "body": f"## {topic}\n\nThis reading introduces {topic.lower()} in {subject}. Work through the "
            f"examples and note where each assumption is used.\n\n- Key term one\n- Key term two\n",
            "estimated_words": duration // 60 * 200,
        }
    elif type_name == "quiz":
        data = _quiz(rng, topic, subject)
    elif type_name == "exercise":
        data = {
            "instructions": f"Solve a problem on {topic.lower()} step by step and justify each step.",
            "starter_code": "def solve(data):\n    # your code here\n    raise NotImplementedError\n",
            "hints": ["Start with the smallest input.", "Write down what stays constant."],
        }
    elif type_name == "lab":
        data = {
            "environment": rng.choice(["python-3.11", "jupyter", "r-4.3", "matlab"]),
            "steps": ["Load the data set", f"Explore {topic.lower()}", "Fit the model", "Report your findings"],
            "dataset_url": f"https://data.demo.twosigma.dev/labs/{item_id}.csv",
        }
    else:
        data = {"question": f"Where have you met {topic.lower()} outside this course?", "min_words": 80}
    return ItemContent(title, description, data, objectives, duration)


def _quiz(rng: random.Random, topic: str, subject: str) -> dict[str, Any]:
    """A quiz in the form items of the gradable `quiz` type hold (assessments/quiz.py): mostly single choice, with
    now and then a multiple-choice, a numeric or a short-text question."""
    questions: list[dict[str, Any]] = []
    for n in range(rng.randint(2, 4)):
        qid, kind = f"q{n + 1}", rng.choices(QUESTION_KINDS, QUESTION_WEIGHTS)[0]
        explanation = "Go back to the definition and test each option on a small example."
        if kind == "single_choice":
            questions.append(
                {"id": qid, "type": kind, "prompt": f"Which statement about {topic.lower()} is true? ({n + 1})",
                 "choices": ["Only in special cases", "Always", "Never", "It depends on the model"],
                 "answer_index": rng.randrange(4), "explanation": explanation}
            )  # fmt: skip
        elif kind == "multiple_choice":
            questions.append(
                {"id": qid, "type": kind, "prompt": f"Which of these use {topic.lower()}? Tick every one.",
                 "choices": [f"{subject} models", "Everyday estimates", "Proofs by example", "Lookup tables"],
                 "answer_indices": sorted(rng.sample(range(4), rng.randint(1, 3))), "explanation": explanation,
                 "points": 2}
            )  # fmt: skip
        elif kind == "numeric":
            answer = rng.randint(2, 40) / 4
            questions.append(
                {"id": qid, "type": kind, "prompt": f"In the worked example on {topic.lower()}, what value comes out?",
                 "answer": answer, "tolerance": 0.05}
            )  # fmt: skip
        else:
            questions.append(
                {"id": qid, "type": kind, "prompt": f"Name the key idea of {topic.lower()} in one word.",
                 "accepted_answers": [topic.split()[0]], "case_sensitive": False}
            )  # fmt: skip
    return {
        "pass_percent": 70,
        "max_attempts": rng.choice([None, 3, 5]),
        "show_feedback": rng.choice(["after_each_attempt", "after_each_attempt", "after_passing", "never"]),
        "questions": questions,
    }


def snapshot(
    seed: int, item_id: int, type_name: str, subject: str, module: tuple[int, str], course: tuple[int, str, str]
) -> dict[str, Any]:
    """The chat session's content_context, shaped as the tutor stores it (tutor/context.py: a gradable item as its
    student view, by the same function)."""
    item = make_item(seed, item_id, type_name, subject)
    gradable = type_name in GRADABLE
    return {
        "content_item": {
            "id": item_id,
            "title": item.title,
            "description": item.description,
            "content_type": type_name,
            "gradable": gradable,
            "data_json": item_data_for(item.data, gradable=gradable, answer_keys=False),
            "learning_objectives": item.objectives,
        },
        "module": {"id": module[0], "title": module[1]},
        "course": {"id": course[0], "title": course[1], "code": course[2]},
    }
