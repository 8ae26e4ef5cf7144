"""Typed dependencies of the tutor: the caller's own chat session, note or message, and what a turn needs.

Chats belong to their user (SPEC §4), decided by authz (authz/tutor.py): anyone else's chat, note or message is a
404. Talking to the tutor in a chat (a message, a retry) and sharing it also need the caller's access to the tutor
*now*: `ContinuableChat` (and, for editing a message or regenerating a reply, `ContinuableMessage`). Reading, deleting,
unsharing, notes, feedback and switching branch (activate) need only ownership.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from twosigma.authz.access import dependencies as access
from twosigma.authz.access.governance import ChatReading
from twosigma.authz.tutor import MessageInChat
from twosigma.db.session import get_database
from twosigma.kit.clock import Now
from twosigma.kit.deps import AppSettings, Limiter
from twosigma.llm.dependencies import Providers
from twosigma.prompts.dependencies import PromptCacheDep
from twosigma.system_settings.dependencies import Effective
from twosigma.tutor.models import ChatMessage, ChatNote, ChatSession
from twosigma.tutor.orchestrator import TurnDeps


async def get_turn_deps(
    request: Request,
    effective: Effective,
    providers: Providers,
    cache: PromptCacheDep,
    limiter: Limiter,
    now: Now,
    settings: AppSettings,
) -> TurnDeps:
    return TurnDeps(
        sessionmaker=get_database(request).sessionmaker,
        effective=effective,
        providers=providers,
        prompt_cache=cache,
        limiter=limiter,
        now=now,
        settings=settings,
    )


async def wants_event_stream(request: Request) -> bool:
    return "text/event-stream" in request.headers.get("accept", "").lower()


OwnChatSession = Annotated[ChatSession, Depends(access.get_own_session)]
# The owner, or staff under the tutor policy's chat_visibility (authz/access/governance.py): GET routes only.
ReadableChat = Annotated[ChatReading, Depends(access.get_readable_chat)]
ContinuableChat = Annotated[ChatSession, Depends(access.get_continuable_session)]
OwnNote = Annotated[ChatNote, Depends(access.get_own_note)]
OwnMessage = Annotated[ChatMessage, Depends(access.get_own_message)]
ContinuableMessage = Annotated[MessageInChat, Depends(access.get_continuable_message)]
Turns = Annotated[TurnDeps, Depends(get_turn_deps)]
WantsStream = Annotated[bool, Depends(wants_event_stream)]
