"""Chat sessions, message history, sharing, notes and feedback. Sending a message lives in `orchestrator.py`."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.authz.access.governance import ChatReading
from twosigma.authz.principal import Principal
from twosigma.authz.tutor import ensure_tutor_access
from twosigma.config import Settings
from twosigma.enums import MessageRole
from twosigma.governance.services import flags, oversight
from twosigma.governance.services import turns as governance
from twosigma.kit.errors import Invalid, NotFound
from twosigma.kit.pagination import PageParams, PageResult, paginate
from twosigma.system_settings.effective import EffectiveSettings
from twosigma.tutor import repository as repo
from twosigma.tutor.context import context_title, context_views, snapshot
from twosigma.tutor.models import ChatMessage, ChatNote, ChatSession
from twosigma.tutor.schemas import (
    ChatSessionCreate,
    ChatSessionRead,
    FeedbackCreate,
    MessagePage,
    NoteCreate,
    NoteUpdate,
    PathMessageRead,
    SharedChatRead,
    SharedMessageRead,
    ShareRead,
)

SHARED_PATH = "/api/v1/shared/chats/"
DEFAULT_MESSAGE_PAGE = 50  # GET …/messages' default `limit`, also the page an activation answers with
# Share tokens are URL-safe base64 (`secrets.token_urlsafe(32)`: 43 characters; the demo's are 64 hex digits), at
# most the column's 255.
SHARE_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,255}")


# --- Sessions ------------------------------------------------------------------------------------------------------


async def _reads(session: AsyncSession, chats: Sequence[ChatSession]) -> list[ChatSessionRead]:
    """Chat sessions as their owner reads them: the content context through `context_views` (no answer keys)."""
    contexts = await context_views(session, [chat.content_context for chat in chats])
    reads = []
    for chat, context in zip(chats, contexts, strict=True):
        read = ChatSessionRead.model_validate(chat)
        reads.append(read if context is chat.content_context else read.model_copy(update={"content_context": context}))
    return reads


async def session_read(session: AsyncSession, chat: ChatSession) -> ChatSessionRead:
    return (await _reads(session, [chat]))[0]


async def create_session(
    session: AsyncSession, principal: Principal, body: ChatSessionCreate, effective: EffectiveSettings
) -> ChatSessionRead:
    """`effective.tutor_open_chat`: a chat without an item for every signed-in user; the tutor policy may switch the
    tutor off for the item's course (403 `tutor_disabled`)."""
    access = await ensure_tutor_access(
        session, principal, open_chat=effective.tutor_open_chat, content_item_id=body.content_item_id
    )
    await governance.open_chat_allowed(session, effective, body.content_item_id)
    context = {}
    if access is not None:
        context = await snapshot(session, access.item, access.course)
    chat = ChatSession(user_id=principal.id, content_item_id=body.content_item_id, content_context=context)
    session.add(chat)
    await session.flush()
    await session.refresh(chat)
    return await session_read(session, chat)


async def list_sessions(
    session: AsyncSession, principal: Principal, content_item_id: int | None, params: PageParams
) -> PageResult[ChatSessionRead]:
    page: PageResult[ChatSession] = await paginate(
        session, repo.own_sessions_query(principal.id, content_item_id), params
    )
    items = await _reads(session, page.items)
    return PageResult(items=items, page=page.page, limit=page.limit, total=page.total)


async def delete_session(session: AsyncSession, chat: ChatSession) -> None:
    """The owner's delete. Its flags that were not escalated go with it; escalated ones stay, without references
    to it (governance/services/flags.py)."""
    await flags.forget_chats(session, [chat.id])
    await session.delete(chat)
    await session.flush()


async def _delete_sessions_where(session: AsyncSession, condition: ColumnElement[bool]) -> tuple[int, int]:
    ids = await repo.session_ids_where(session, condition)
    await flags.forget_chats(session, ids)
    return await repo.delete_sessions(session, ids)


async def erase_user(session: AsyncSession, user_id: int) -> tuple[int, int]:
    """An account being erased: all its chat sessions, with their messages, notes and share links (the privacy
    domain erases its flags through the governance domain)."""
    return await _delete_sessions_where(session, repo.of_user(user_id))


async def delete_idle_chats(session: AsyncSession, university_id: int, cutoff: datetime) -> tuple[int, int]:
    """Chat retention: the university's sessions idle (no message) since `cutoff`; (sessions, messages) deleted.
    A session belongs to the university of its content item's course; one without an item (none chosen, or the
    item was deleted) to every university its owner is a member of, so the strictest of their retentions wins.
    Escalated flags outlive them, as for the owner's delete."""
    return await _delete_sessions_where(session, repo.idle_in_university(university_id, cutoff))


async def read_session(session: AsyncSession, principal: Principal, reading: ChatReading) -> ChatSessionRead:
    """The owner's read, or a staff read under the policy's chat_visibility (audited)."""
    await oversight.audit_read(session, principal, reading, "session")
    read = await session_read(session, reading.chat)
    # The share link opens the whole conversation: staff read what chat_visibility allows, never the link around it.
    return read.model_copy(update={"share_token": None}) if reading.staff else read


async def read_messages(
    session: AsyncSession, principal: Principal, reading: ChatReading, before: int | None, limit: int
) -> MessagePage:
    await oversight.audit_read(session, principal, reading, "messages")
    only = await oversight.visible_messages(session, reading)
    if only is None:
        return await list_messages(session, reading.chat, before, limit)
    # Private mode: the flagged messages and the one before each, in one page (from any branch: staff read what was
    # flagged, not the student's current path; each is shown alone, so its siblings are itself).
    items = [
        PathMessageRead(
            id=m.id,
            session_id=m.session_id,
            parent_message_id=m.parent_message_id,
            role=m.role,
            content=m.content,
            meta=m.meta,
            created_at=m.created_at,
            sibling_ids=[m.id],
        )
        for m in only
    ]
    return MessagePage(items=items, limit=limit, next_before=None)


async def list_messages(session: AsyncSession, chat: ChatSession, before: int | None, limit: int) -> MessagePage:
    """The active path, newest first, each message with its siblings (three queries at most: the cursor's parent,
    the path walk, the siblings). `before` continues up the path from that message (its parent first)."""
    if before is None:
        start = await repo.active_leaf(session, chat)
    else:
        found, start = await repo.parent_in_session(session, before, chat.id)
        if not found:
            start = None
    return await _path_page(session, chat.id, start, limit)


async def _path_page(session: AsyncSession, session_id: int, start: int | None, limit: int) -> MessagePage:
    rows = list(await repo.path_page(session, session_id, start, limit)) if start is not None else []
    more = len(rows) > limit
    rows = rows[:limit]
    parents = [r.parent_message_id for r in rows if r.parent_message_id is not None]
    roots = any(r.parent_message_id is None for r in rows)
    siblings = await repo.sibling_ids(session, session_id, parents, roots=roots)
    return MessagePage(
        items=[
            PathMessageRead(
                id=r.id,
                session_id=r.session_id,
                parent_message_id=r.parent_message_id,
                role=r.role,
                content=r.content,
                meta=r.meta,
                created_at=r.created_at,
                sibling_ids=siblings.get(r.parent_message_id, [r.id]),
            )
            for r in rows
        ],
        limit=limit,
        next_before=rows[-1].id if more and rows else None,
    )


async def activate_message(session: AsyncSession, message: ChatMessage) -> MessagePage:
    """Make the path through `message` the active one. It ends at the message's deepest descendant reached by always
    taking the newest child (the branch as it was last continued); the first page of that path is returned."""
    leaf = await repo.deepest_latest_descendant(session, message.id)
    await repo.set_active_leaf(session, message.session_id, leaf)
    return await _path_page(session, message.session_id, leaf, DEFAULT_MESSAGE_PAGE)


# --- Sharing -------------------------------------------------------------------------------------------------------


def _share_read(settings: Settings, token: str) -> ShareRead:
    return ShareRead(share_token=token, share_url=settings.public_base_url.rstrip("/") + SHARED_PATH + token)


async def share_session(session: AsyncSession, settings: Settings, chat: ChatSession) -> ShareRead:
    """Idempotent while shared (the same link); after a revoke, a new token."""
    if not chat.share_enabled or chat.share_token is None:
        chat.share_token = secrets.token_urlsafe(32)
        chat.share_enabled = True
        await session.flush()
    return _share_read(settings, chat.share_token)


async def unshare_session(session: AsyncSession, chat: ChatSession) -> None:
    # The token is dropped, not just disabled: it stops working at once and is never reused.
    chat.share_enabled = False
    chat.share_token = None
    await session.flush()


async def shared_chat(session: AsyncSession, token: str, after: int | None, limit: int) -> SharedChatRead:
    # Only a string of the tokens' alphabet is looked up: anything else (a NUL, odd characters) is the same 404 as
    # an unknown token, without a query the database would refuse.
    chat = await repo.shared_session(session, token) if SHARE_TOKEN.fullmatch(token) else None
    if chat is None:
        raise NotFound("This shared conversation does not exist or is no longer shared.", code="shared_chat_not_found")
    rows = list(await repo.shared_page(session, chat.id, await repo.active_leaf(session, chat), after, limit))
    more = len(rows) > limit
    rows = rows[:limit]
    return SharedChatRead(
        title=context_title(chat.content_context),
        messages=[SharedMessageRead(role=r.role, content=r.content, created_at=r.created_at) for r in rows],
        limit=limit,
        next_after=rows[-1].id if more and rows else None,
    )


# --- Notes ---------------------------------------------------------------------------------------------------------


async def _check_message(session: AsyncSession, chat_session_id: int, message_id: int | None) -> None:
    if message_id is not None and not await repo.message_in_session(session, message_id, chat_session_id):
        raise Invalid(
            "message_id must be a message of this conversation.",
            code="message_not_in_session",
            details=[{"loc": ["body", "message_id"], "msg": "not a message of this conversation"}],
        )


async def list_notes(session: AsyncSession, chat: ChatSession, params: PageParams) -> PageResult[ChatNote]:
    return await paginate(session, repo.notes_query(chat.id), params)


async def create_note(session: AsyncSession, chat: ChatSession, body: NoteCreate) -> ChatNote:
    await _check_message(session, chat.id, body.message_id)
    note = ChatNote(
        session_id=chat.id, message_id=body.message_id, content=body.content, selected_text=body.selected_text
    )
    session.add(note)
    await session.flush()
    await session.refresh(note)
    return note


async def update_note(session: AsyncSession, note: ChatNote, body: NoteUpdate) -> ChatNote:
    changes = body.model_dump(exclude_unset=True)
    if "content" in changes and changes["content"] is None:
        raise Invalid("content may not be null.", details=[{"loc": ["body", "content"], "msg": "may not be null"}])
    if changes.get("message_id") is not None:
        await _check_message(session, note.session_id, changes["message_id"])
    for key, value in changes.items():
        setattr(note, key, value)
    await session.flush()
    return note


async def delete_note(session: AsyncSession, note: ChatNote) -> None:
    await session.delete(note)
    await session.flush()


# --- Feedback ------------------------------------------------------------------------------------------------------


async def give_feedback(
    session: AsyncSession, message: ChatMessage, body: FeedbackCreate, now: datetime
) -> ChatMessage:
    """Stored in the message's meta (`meta.feedback`); rating again overwrites."""
    if message.role is not MessageRole.ASSISTANT:
        raise Invalid("Feedback can only be given on the tutor's messages.", code="not_an_assistant_message")
    feedback = {"rating": body.rating, "comment": body.comment, "at": now.astimezone(UTC).isoformat()}
    message.meta = {**message.meta, "feedback": feedback}  # a new dict, so the JSONB change is detected
    await session.flush()
    return message
