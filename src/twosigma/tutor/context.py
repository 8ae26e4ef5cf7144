"""What the tutor knows: the content snapshot, the prompt variables, and the history window."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.assessments import service as assessments_service
from twosigma.assessments.service import QuizStanding
from twosigma.assessments.views import item_data_for
from twosigma.content.models import ContentItem
from twosigma.courses.models import Course
from twosigma.enums import MessageRole
from twosigma.llm.types import LLMMessage
from twosigma.progress import service as progress_service
from twosigma.progress.repository import Standing
from twosigma.taxonomy import service as taxonomy_service
from twosigma.tutor import repository as repo
from twosigma.users.models import User, UserProfile

# Rough token estimate: ~4 characters per token for English text (OpenAI's and Anthropic's rule of thumb), plus a
# few tokens of per-message framing. Exact counts would need each provider's tokenizer; the budget only has to keep
# requests within a bounded size.
CHARS_PER_TOKEN = 4
MESSAGE_OVERHEAD_TOKENS = 4
# History is read newest-first in batches of this size until the budget is spent.
HISTORY_BATCH = 50  # the first read; each further read doubles, up to HISTORY_BATCH_MAX
HISTORY_BATCH_MAX = 1600


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN) + MESSAGE_OVERHEAD_TOKENS


async def snapshot(session: AsyncSession, item: ContentItem, course: Course) -> dict[str, Any]:
    """The content context stored on a new chat session (copied, so later edits do not change it). The tutor never
    reads answer keys, whoever opens the chat: a gradable item is stored as its student view, and `gradable` says so
    to every later read (`context_view`)."""
    module_title, content_type, gradable = await repo.item_names(session, item)
    return {
        "content_item": {
            "id": item.id,
            "title": item.title,
            "description": item.description,
            "content_type": content_type,
            "gradable": gradable,
            "data_json": item_data_for(item.data_json, gradable=gradable, answer_keys=False),
            "learning_objectives": list(item.learning_objectives),
        },
        "module": {"id": item.module_id, "title": module_title},
        "course": {"id": course.id, "title": course.title, "code": course.code},
    }


def _needs_type_check(context: dict[str, Any]) -> bool:
    item = context.get("content_item")
    return isinstance(item, dict) and bool(item.get("data_json")) and item.get("gradable") is not True


def _redacted(context: dict[str, Any], gradable_names: frozenset[str]) -> dict[str, Any]:
    item = context.get("content_item")
    if not isinstance(item, dict) or not item.get("data_json"):
        return context
    gradable = item.get("gradable") is True or item.get("content_type") in gradable_names
    data = item_data_for(item["data_json"], gradable=gradable, answer_keys=False)
    return context if data is item["data_json"] else {**context, "content_item": {**item, "data_json": data}}


async def context_views(session: AsyncSession, contexts: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stored snapshots as their owner and the LLM provider read them: a gradable item's data through the one
    student view (assessments/views.py). Gradable means: as recorded when the chat opened, or — for a snapshot stored
    before content types could be gradable, or of a type made gradable since — the type of that name is gradable
    now (one query for all of them, and none when every snapshot already says it is gradable or holds no data)."""
    names = frozenset[str]()
    if any(_needs_type_check(context) for context in contexts):
        names = await taxonomy_service.gradable_type_names(session)
    return [_redacted(context, names) for context in contexts]


async def context_view(session: AsyncSession, context: dict[str, Any]) -> dict[str, Any]:
    return (await context_views(session, [context]))[0]


def context_title(context: dict[str, Any]) -> str | None:
    title = (context.get("content_item") or {}).get("title")
    return title if isinstance(title, str) else None


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def prompt_variables(
    context: dict[str, Any], user: User, profile: UserProfile | None, knowledge: StudentKnowledge | None = None
) -> dict[str, str]:
    """Every variable the tutor prompts may use; absent values are empty strings."""
    item = context.get("content_item") or {}
    module = context.get("module") or {}
    course = context.get("course") or {}
    objectives = item.get("learning_objectives") or []
    data = item.get("data_json")
    return {
        "content_title": _text(item.get("title")),
        "content_description": _text(item.get("description")),
        "content_type": _text(item.get("content_type")),
        "content_data": json.dumps(data, ensure_ascii=False, indent=2) if data else "",
        "learning_objectives": "\n".join(f"- {_text(o)}" for o in objectives),
        "module_title": _text(module.get("title")),
        "course_title": _text(course.get("title")),
        "course_code": _text(course.get("code")),
        "student_name": user.full_name,
        "study_level": profile.study_level.value if profile and profile.study_level else "",
        "learning_goal": profile.learning_goal.value if profile and profile.learning_goal else "",
        "locale": user.locale,
        "student_progress": knowledge.progress if knowledge else "",
        "recent_quiz_results": knowledge.quiz_results if knowledge else "",
    }


# --- What the tutor knows of the student -------------------------------------------------------------------------

QUIZZES_SHOWN = 5  # the most recently attempted quizzes of the course
QUESTIONS_SHOWN = 5  # per quiz, of those answered wrongly (and of those left unanswered)
TITLES_SHOWN = 5  # items of the module not yet completed
QUESTION_CHARS = 300  # a question's text is cut here


@dataclass(frozen=True)
class StudentKnowledge:
    """`student_progress` and `recent_quiz_results`, as compact text for the prompt."""

    progress: str
    quiz_results: str


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _short(text: str, limit: int = QUESTION_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _percent(value: float) -> str:
    return f"{value:.0f} %" if value == round(value) else f"{value:.1f} %"


def render_progress(standing: Standing | None, module_title: str) -> str:
    if standing is None:
        return "No progress recorded: the student has no active or completed enrolment in this course."
    lines = [f"Course: {standing.course_percent} % complete."]
    remaining = standing.module_items - standing.module_completed
    module = f'Module "{module_title}"' if module_title else "This module"
    line = f"{module}: {standing.module_completed} of {standing.module_items} items completed, {remaining} remaining"
    if standing.remaining_titles:
        line += " (not yet completed: " + ", ".join(f'"{_short(t, 120)}"' for t in standing.remaining_titles)
        line += ", …)" if remaining > len(standing.remaining_titles) else ")"
    lines.append(line + ".")
    return "\n".join(lines)


def render_quiz_results(standings: Sequence[QuizStanding]) -> str:
    if not standings:
        return "No quiz attempts in this course yet."
    lines: list[str] = []
    for quiz in standings:
        outcome = "passed" if quiz.passed else "not passed"
        best = f", best {_percent(quiz.best_score_percent)}" if quiz.attempts > 1 else ""
        lines.append(
            f'- "{_short(quiz.title, 120)}": latest attempt (number {quiz.attempt_number}, {quiz.attempts} in all) '
            f"scored {_percent(quiz.score_percent)}{best}, {outcome}."
        )
        if not quiz.feedback_released:
            lines.append(
                "  Which questions were wrong is not shown to the student (the quiz's feedback policy): do not "
                "reveal or guess it."
            )
            continue
        if quiz.wrong_questions:
            lines.append("  Answered wrongly:")
            lines.extend(f"  - {_short(q)}" for q in quiz.wrong_questions)
        if quiz.unanswered_questions:
            lines.append("  Not answered:")
            lines.extend(f"  - {_short(q)}" for q in quiz.unanswered_questions)
    return "\n".join(lines)


async def student_knowledge(session: AsyncSession, user_id: int, context: dict[str, Any]) -> StudentKnowledge | None:
    """What the student has done in the course of the chat's item: their progress (the progress domain, one query)
    and their latest quiz results (the assessments domain, one query). None for a chat without a course."""
    course_id = _int((context.get("course") or {}).get("id"))
    if course_id is None:
        return None
    module = context.get("module") or {}
    module_id = _int(module.get("id"))
    standing = None
    if module_id is not None:
        standing = await progress_service.tutor_standing(
            session, user_id=user_id, course_id=course_id, module_id=module_id, titles=TITLES_SHOWN
        )
    quizzes = await assessments_service.recent_quiz_results(
        session, user_id=user_id, course_id=course_id, quizzes=QUIZZES_SHOWN, questions=QUESTIONS_SHOWN
    )
    return StudentKnowledge(
        progress=render_progress(standing, _text(module.get("title"))), quiz_results=render_quiz_results(quizzes)
    )


@dataclass(frozen=True)
class HistoryRow:
    id: int
    role: MessageRole
    content: str
    incomplete: bool


async def history_window(session: AsyncSession, session_id: int, upto: int, budget: int) -> list[HistoryRow]:
    """The newest conversation messages of the path ending at `upto` (the active branch: `upto` and its ancestors,
    never a sibling branch) whose estimated tokens fit `budget`, oldest first.

    The path is walked up from `upto` in batches (a recursive read along `parent_message_id`, bounded by the
    batch's size), stopping as soon as the budget is spent, so the work does not grow with the length of the
    conversation; batches double (50, 100, 200, …) so that a budget holding a thousand short messages costs five
    reads, not twenty. The newest message (the one being answered) is always included. SYSTEM messages and replies
    flagged incomplete are skipped: the latter are a failed attempt, not something the tutor said.
    """
    kept: list[HistoryRow] = []
    spent = 0
    start: int | None = upto
    size = HISTORY_BATCH
    while start is not None:
        rows = await repo.history_batch(session, session_id, start, size)
        if not rows:
            break
        for row in rows:
            if row.role not in repo.CONVERSATION_ROLES or (row.incomplete and row.role is MessageRole.ASSISTANT):
                continue
            cost = estimate_tokens(row.content)
            if kept and spent + cost > budget:
                return kept[::-1]
            kept.append(HistoryRow(row.id, row.role, row.content, bool(row.incomplete)))
            spent += cost
        start = rows[-1].parent_message_id
        size = min(size * 2, HISTORY_BATCH_MAX)
    return kept[::-1]


def as_llm_messages(rows: Sequence[HistoryRow]) -> list[LLMMessage]:
    """Provider-ready turns: start with the user, and merge consecutive turns of one role (a message sent after a
    failed reply follows another user message)."""
    turns: list[LLMMessage] = []
    for row in rows:
        role: Any = "user" if row.role is MessageRole.USER else "assistant"
        if not turns and role == "assistant":
            continue
        if turns and turns[-1].role == role:
            turns[-1] = LLMMessage(role, f"{turns[-1].content}\n\n{row.content}")
        else:
            turns.append(LLMMessage(role, row.content))
    return turns
