"""What the tutor knows: the content snapshot, the prompt variables, and the history window."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.assessments.views import item_data_for
from twosigma.content.models import ContentItem
from twosigma.courses.models import Course
from twosigma.enums import MessageRole
from twosigma.llm.types import LLMMessage
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


def prompt_variables(context: dict[str, Any], user: User, profile: UserProfile | None) -> dict[str, str]:
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
    }


@dataclass(frozen=True)
class HistoryRow:
    id: int
    role: MessageRole
    content: str
    incomplete: bool


async def history_window(session: AsyncSession, session_id: int, upto: int, budget: int) -> list[HistoryRow]:
    """The newest conversation messages (id <= `upto`) whose estimated tokens fit `budget`, oldest first.

    Read newest-first in batches with a LIMIT, stopping as soon as the budget is spent, so the work does not grow
    with the length of the conversation; batches double (50, 100, 200, …) so that a budget holding a thousand
    short messages costs five reads, not twenty. The newest message (the one being answered) is always included.
    Replies flagged incomplete are skipped: they are a failed attempt, not something the tutor said.
    """
    kept: list[HistoryRow] = []
    spent = 0
    below: int | None = None
    size = HISTORY_BATCH
    while True:
        rows = await repo.history_batch(session, session_id, upto, below, size)
        for message_id, role, content, incomplete in rows:
            if incomplete and role is MessageRole.ASSISTANT:
                continue
            cost = estimate_tokens(content)
            if kept and spent + cost > budget:
                return kept[::-1]
            kept.append(HistoryRow(message_id, role, content, bool(incomplete)))
            spent += cost
        if len(rows) < size:
            return kept[::-1]
        below = rows[-1].id
        size = min(size * 2, HISTORY_BATCH_MAX)


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
