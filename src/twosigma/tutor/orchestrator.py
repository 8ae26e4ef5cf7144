"""One tutor turn: store the user's message, build the request, stream the model, store the reply — losing nothing.

The order is the contract:
1. `start_turn` checks the caller's limits, stores the user message in the request's own unit of work, loads what
   the call needs (the student, the prompt, the history window) and COMMITS before the provider is called: once
   the stream starts, the user's message is stored whatever happens next, and the session holds no connection
   while the model streams. (One transaction, not two: a turn's round trips before the first delta went from
   thirteen to eight.)
2. `run_turn` (an async generator) streams from the provider holding no database connection, then opens a new
   short session to store the assistant message with its meta.
3. If the provider fails, or the client goes away (the generator is cancelled or closed), the text received so far
   is stored with `meta.incomplete = true` and `meta.error`; the store is shielded from cancellation.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import anyio
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from twosigma.config import Settings
from twosigma.enums import MessageRole
from twosigma.governance.services import turns as governance
from twosigma.governance.services.budgets import day_bounds, zone
from twosigma.governance.services.providers import fallback_provider, falls_back
from twosigma.kit.errors import AppError, Conflict, Invalid, RateLimited, Unavailable
from twosigma.kit.metrics import observe_llm_reply
from twosigma.kit.ratelimit import RateLimiter
from twosigma.llm.errors import LLMError, LLMFailure, LLMRateLimited
from twosigma.llm.factory import ProviderRegistry
from twosigma.llm.types import Completed, LLMProvider, LLMRequest, TextDelta
from twosigma.prompts.cache import PromptCache
from twosigma.retrieval.services.search import (
    Retrieved,
    TextFound,
    citations,
    course_material,
    query_text,
    search_text,
    search_vectors,
)
from twosigma.system_settings.effective import EffectiveSettings
from twosigma.tutor import repository as repo
from twosigma.tutor.context import (
    as_llm_messages,
    context_view,
    history_window,
    prompt_variables,
    student_knowledge,
)
from twosigma.tutor.models import ChatMessage, ChatSession
from twosigma.tutor.schemas import MessageRead
from twosigma.tutor.system_prompt import SystemPrompt, resolve_system_prompt
from twosigma.users import service as users_service
from twosigma.users.models import User

logger = logging.getLogger(__name__)

CLIENT_DISCONNECTED = "client_disconnected"


@dataclass(frozen=True)
class TurnDeps:
    """What a turn needs from the app, gathered by the route's dependencies."""

    sessionmaker: async_sessionmaker[AsyncSession]
    effective: EffectiveSettings
    providers: ProviderRegistry
    prompt_cache: PromptCache
    limiter: RateLimiter
    now: datetime
    settings: Settings


@dataclass
class Turn:
    chat_session_id: int
    user_message: MessageRead
    created_user_message: bool  # False for a retry
    prompt: SystemPrompt
    request: LLMRequest
    provider: LLMProvider | None
    provider_name: str | None
    failure: LLMFailure | None  # known before the call (no provider configured)
    governance: governance.TurnGovernance | None = None  # policy, budgets and prices (governance/services/turns.py)
    fallback: LLMProvider | None = None  # takes the turn on 5xx/429/timeout before the first token
    retrieved: Retrieved | None = None  # the course material given to the model (docs/tutor.md)


@dataclass(frozen=True)
class UserStored:
    message: MessageRead


@dataclass(frozen=True)
class Delta:
    text: str


@dataclass(frozen=True)
class Finished:
    message: MessageRead | None  # None only when the reply itself could not be stored
    error: AppError | None


TurnEvent = UserStored | Delta | Finished


# --- Limits ----------------------------------------------------------------------------------------------------


async def check_limits(session: AsyncSession, deps: TurnDeps, user_id: int, time_zone: str | None) -> None:
    """429 when the caller has used up today's tokens or this minute's messages. "Today" is the user's day, in the
    user's time zone (users.time_zone; unset or unknown: UTC), as for the daily budget (governance/services/budgets.py):
    the allowance renews at the user's local midnight."""
    daily = deps.effective.tutor_tokens_per_day
    if daily > 0:
        tz = zone(time_zone)
        day_start, renews_at = day_bounds(deps.now, tz)
        used = await repo.tokens_since(session, user_id, day_start)
        if used >= daily:
            local = renews_at.astimezone(tz)
            raise RateLimited(
                f"You have used today's tutor allowance of {daily} tokens; it renews at midnight in your time zone "
                f"({tz.key}), {local.isoformat()}.",
                code="tutor_token_limit",
                retry_after=int((renews_at - deps.now).total_seconds()) + 1,
                details={"limit": daily, "used": used, "resets_at": renews_at.isoformat(), "time_zone": tz.key},
            )
    per_minute = deps.effective.tutor_messages_per_minute
    if per_minute > 0:
        await deps.limiter.hit(
            f"{per_minute}/minute",
            "tutor-messages",
            str(user_id),
            message=f"You may send at most {per_minute} tutor messages per minute; try again shortly.",
        )


# --- Before the call -------------------------------------------------------------------------------------------


async def _store_user_message(
    session: AsyncSession,
    chat: ChatSession,
    user: User,
    content: str,
    parent_id: int | None,
    now: datetime,
    meta: dict[str, Any],
) -> MessageRead:
    """Store the message (with its safety screen's `meta`) after `parent_id`, make it the end of the active path, and
    count it as activity in the streak of `user`, by the same rule as a progress write (the users service's); not
    committed."""
    message = await repo.add_message(
        session, chat.id, MessageRole.USER, content, meta, parent_id=parent_id, activate=True
    )
    await users_service.record_activity(session, user.id, now)
    return message


async def _user_message_to_answer(session: AsyncSession, chat: ChatSession, below: int | None) -> MessageRead:
    """The USER message at or above `below` on its path, made the end of the active path so that the new reply
    continues it; 409 when there is none."""
    found = await repo.nearest_user_message(session, chat.id, below) if below is not None else None
    if found is None:
        raise Conflict("This conversation has no message to answer again.", code="nothing_to_retry")
    await repo.set_active_leaf(session, chat.id, found.id)
    return MessageRead.model_validate(found)


async def start_turn(
    session: AsyncSession,
    deps: TurnDeps,
    chat: ChatSession,
    content: str | None,
    *,
    edit_of: ChatMessage | None = None,
    regenerate: ChatMessage | None = None,
) -> Turn:
    """Check limits, store the user message — or, for a retry (`content` None), find the last one — prepare the
    provider request, and commit. Raises only before anything is committed (policy, budgets, limits, nothing to
    retry).

    Branches (docs/tutor.md): a new message follows the active path's end, an edit (`edit_of`, with `content`)
    is a sibling of the edited message; a retry answers the active path's last user message and a regeneration
    (`regenerate`, an assistant message) the user message it answered, as a sibling of the earlier replies."""
    if edit_of is not None and edit_of.role is not MessageRole.USER:
        raise Invalid("Only your own messages can be edited; regenerate a reply instead.", code="not_a_user_message")
    if regenerate is not None and regenerate.role is not MessageRole.ASSISTANT:
        raise Invalid(
            "Only the tutor's replies can be regenerated; edit your message instead.", code="not_an_assistant_message"
        )
    governed = await governance.before_turn(
        session, deps.settings, deps.effective, chat.user_id, chat.content_item_id, deps.now
    )
    await check_limits(session, deps, chat.user_id, governed.time_zone)
    if content is not None:
        user, profile = await repo.student(session, chat.user_id)
        parent_id = edit_of.parent_message_id if edit_of is not None else await repo.active_leaf(session, chat)
        screened = await governance.screen_input(governed, content)
        user_message = await _store_user_message(session, chat, user, content, parent_id, deps.now, screened)
        await governance.record_input(session, governed, chat.id, user_message.id)
    else:
        below = regenerate.parent_message_id if regenerate is not None else await repo.active_leaf(session, chat)
        user_message = await _user_message_to_answer(session, chat, below)
        user, profile = await repo.student(session, chat.user_id)
        await governance.screen_input(governed, user_message.content)  # its flags were stored when it was sent
    # The snapshot as the student reads it (no answer keys): nothing sent to the provider holds a key.
    knowledge = await student_knowledge(session, chat.user_id, chat.content_context)
    variables = prompt_variables(await context_view(session, chat.content_context), user, profile, knowledge)
    rows = await history_window(session, chat.id, user_message.id, deps.effective.tutor_history_token_budget)
    found = await _search_text(session, deps, chat, user_message.content, [row.content for row in rows[-3:-1]])
    template = await resolve_system_prompt(session, chat, deps.effective, deps.prompt_cache)
    # The request's unit of work would commit when the route returns; commit here so that the message is stored
    # before the provider is called and no connection is held while the model streams — nor while the query is
    # embedded (up to 2 s): the vector half of retrieval runs now, its query in a short session of its own.
    await session.commit()
    retrieved = await search_vectors(found, deps.sessionmaker)
    variables["course_material"] = course_material(retrieved.sources)
    prompt = template.compile(variables)

    provider: LLMProvider | None = None
    failure: LLMFailure | None = None
    try:
        # The university's own provider when it has one (governance/services/university_settings.py).
        provider = deps.providers.provider(governed.llm)
    except LLMFailure as exc:
        failure = exc
    request = LLMRequest(
        messages=[*prompt.messages, *as_llm_messages(rows)],
        system=prompt.system or None,
        model=prompt.model,
        temperature=prompt.temperature,
        max_tokens=prompt.max_tokens,
    )
    return Turn(
        chat_session_id=chat.id,
        user_message=user_message,
        created_user_message=content is not None,
        prompt=prompt,
        request=request,
        provider=provider,
        provider_name=provider.name if provider else governed.llm.llm_provider,
        failure=failure,
        governance=governed,
        # The university's fallback when it has its own provider, else the platform's (never the platform's for it).
        fallback=fallback_provider(deps.providers, governed.llm) if provider is not None else None,
        retrieved=retrieved,
    )


async def _search_text(
    session: AsyncSession, deps: TurnDeps, chat: ChatSession, message: str, previous: list[str]
) -> TextFound:
    """The session's course (or, a session opened without a content item, the courses the student is ACTIVE in)."""
    course = (chat.content_context.get("course") or {}).get("id")
    course_id = course if isinstance(course, int) else None
    return await search_text(
        session, deps.effective, query_text(message, previous), course_id=course_id, user_id=chat.user_id
    )


# --- The call and the reply ------------------------------------------------------------------------------------


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


async def _store_reply(
    sessionmaker: async_sessionmaker[AsyncSession], turn: Turn, text: str, meta: dict[str, Any]
) -> MessageRead:
    """The reply follows the user message it answers (a sibling of earlier replies to it)."""
    observe_llm_reply(meta)
    async with sessionmaker() as session:
        stored = await repo.add_message(
            session,
            turn.chat_session_id,
            MessageRole.ASSISTANT,
            text,
            meta,
            parent_id=turn.user_message.id,
            activate=False,
        )
        if turn.governance is not None:
            await governance.record_turn(session, turn.governance, turn.chat_session_id, stored.id, meta)
        await session.commit()
        return stored


def _error_meta(error: AppError) -> dict[str, Any]:
    info: dict[str, Any] = {"code": error.error_code, "message": error.message}
    if isinstance(error, LLMRateLimited):
        info["retry_after"] = error.retry_after
    return info


async def run_turn(turn: Turn, sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncGenerator[TurnEvent]:
    """UserStored (new messages only), Delta*, then Finished with the stored reply (and the error, if any)."""
    if turn.created_user_message:
        yield UserStored(turn.user_message)
    started = time.perf_counter()
    first: float | None = None
    parts: list[str] = []
    completed: Completed | None = None
    error: AppError | None = None

    provider, request = turn.provider, turn.request
    fell_back: dict[str, Any] | None = None

    def meta() -> dict[str, Any]:
        request_model = request.model or (provider.default_model if provider else None)
        data: dict[str, Any] = {
            "provider": provider.name if fell_back and provider else turn.provider_name,
            "model": completed.model if completed else request_model,
            "prompt": turn.prompt.reference(),
            "input_tokens": completed.usage.input_tokens if completed else None,
            "output_tokens": completed.usage.output_tokens if completed else None,
            "time_to_first_token_ms": _ms(first - started) if first is not None else None,
            "latency_ms": _ms(time.perf_counter() - started),
            "stop_reason": completed.stop_reason if completed else None,
        }
        if fell_back is not None:
            data["fallback"] = fell_back
        if turn.governance is not None:
            data |= governance.turn_meta(turn.governance, data["model"], data["input_tokens"], data["output_tokens"])
        if turn.retrieved is not None and turn.retrieved.ranking != "off":
            data["retrieval_ms"] = turn.retrieved.elapsed_ms
            data["citations"] = citations(turn.retrieved.sources, "".join(parts))
        if error is not None:
            data["incomplete"] = True
            data["error"] = _error_meta(error)
        return data

    try:
        if turn.failure is not None:
            raise turn.failure
        assert provider is not None
        while True:
            stream = provider.stream(request)
            try:
                async for event in stream:
                    if isinstance(event, TextDelta):
                        if first is None:
                            first = time.perf_counter()
                        parts.append(event.text)
                        yield Delta(event.text)
                    else:
                        completed = event
                break
            except LLMFailure as exc:
                # Before the first token a fallback may take the turn (governance/services/providers.py).
                if first is not None or turn.fallback is None or provider is turn.fallback or not falls_back(exc):
                    raise
                fell_back = {"from": provider.name, "reason": exc.error_code}
                provider, request = turn.fallback, dataclasses.replace(turn.request, model=None)
            finally:
                # Close the provider's stream (and its HTTP response) at once, also when we are cancelled or closed.
                close = getattr(stream, "aclose", None)
                if close is not None:
                    with anyio.CancelScope(shield=True):
                        await close()
    except LLMFailure as exc:
        error = exc
    except (asyncio.CancelledError, GeneratorExit):
        # The client went away: keep what was received. Shielded, or the cancellation would cancel the store too.
        error = AppError("The client disconnected before the answer was complete.", code=CLIENT_DISCONNECTED)
        with anyio.CancelScope(shield=True):
            await _store_reply(sessionmaker, turn, "".join(parts), meta())
        raise
    except Exception as exc:
        logger.exception("tutor turn failed unexpectedly")
        error = LLMError("The tutor failed to answer.")
        error.__cause__ = exc
    if turn.governance is not None:
        # The reply is screened; after a high-severity screen it ends with the policy's support text.
        support = await governance.screen_output(turn.governance, "".join(parts))
        if support:
            parts.append(support)
            yield Delta(support)
    try:
        message = await _store_reply(sessionmaker, turn, "".join(parts), meta())
    except Exception:
        # The database went away after the user's message was committed: that message is safe; tell the client
        # the reply could not be kept rather than ending the stream without a word.
        logger.exception("could not store the tutor's reply")
        yield Finished(
            None, Unavailable("The reply could not be stored; try again shortly.", code="database_unavailable")
        )
        return
    yield Finished(message, error)
