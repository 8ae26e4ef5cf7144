"""Typed dependencies of the tutor: the caller's own chat session, note or message, and what a turn needs.

Chats belong to their user (SPEC §4): the loaders select by id AND the caller's user id, so anyone else's chat,
note or message is a 404 — indistinguishable from one that does not exist. Staff have no view of chats.

Talking to the tutor in a chat (a message, a retry) and sharing it also need the caller's access to the tutor *now*
(authz/tutor.py): `ContinuableChat`. Reading, deleting, unsharing and notes need only ownership.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from twosigma.authz.dependencies import CurrentPrincipal
from twosigma.authz.tutor import ensure_tutor_access
from twosigma.db.session import DbSession, get_database
from twosigma.kit.clock import Now
from twosigma.kit.deps import Limiter
from twosigma.kit.errors import NotFound
from twosigma.kit.params import IdPath
from twosigma.llm.dependencies import Providers
from twosigma.prompts.dependencies import PromptCacheDep
from twosigma.system_settings.dependencies import Effective
from twosigma.tutor import repository as repo
from twosigma.tutor.models import ChatMessage, ChatNote, ChatSession
from twosigma.tutor.orchestrator import TurnDeps

Id = IdPath


async def get_own_session(session: DbSession, principal: CurrentPrincipal, session_id: Id) -> ChatSession:
    chat = await repo.own_session(session, session_id, principal.id)
    if chat is None:
        raise NotFound("Chat session not found.", code="chat_session_not_found")
    return chat


async def get_continuable_session(
    session: DbSession,
    principal: CurrentPrincipal,
    chat: Annotated[ChatSession, Depends(get_own_session)],
    effective: Effective,
) -> ChatSession:
    await ensure_tutor_access(session, principal, open_chat=effective.tutor_open_chat, chat=chat)
    return chat


async def get_own_note(session: DbSession, principal: CurrentPrincipal, note_id: Id) -> ChatNote:
    note = await repo.own_note(session, note_id, principal.id)
    if note is None:
        raise NotFound("Note not found.", code="note_not_found")
    return note


async def get_own_message(session: DbSession, principal: CurrentPrincipal, message_id: Id) -> ChatMessage:
    message = await repo.own_message(session, message_id, principal.id)
    if message is None:
        raise NotFound("Message not found.", code="message_not_found")
    return message


async def get_turn_deps(
    request: Request, effective: Effective, providers: Providers, cache: PromptCacheDep, limiter: Limiter, now: Now
) -> TurnDeps:
    return TurnDeps(
        sessionmaker=get_database(request).sessionmaker,
        effective=effective,
        providers=providers,
        prompt_cache=cache,
        limiter=limiter,
        now=now,
    )


async def wants_event_stream(request: Request) -> bool:
    return "text/event-stream" in request.headers.get("accept", "").lower()


OwnChatSession = Annotated[ChatSession, Depends(get_own_session)]
ContinuableChat = Annotated[ChatSession, Depends(get_continuable_session)]
OwnNote = Annotated[ChatNote, Depends(get_own_note)]
OwnMessage = Annotated[ChatMessage, Depends(get_own_message)]
Turns = Annotated[TurnDeps, Depends(get_turn_deps)]
WantsStream = Annotated[bool, Depends(wants_event_stream)]
