"""Every query of the tutor domain."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Table,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.content.models import ContentItem, Module
from twosigma.courses.models import Course
from twosigma.enums import MessageRole
from twosigma.taxonomy.models import ContentType
from twosigma.tenancy.models import UserUniversityRole
from twosigma.tutor.models import ChatMessage, ChatNote, ChatSession
from twosigma.tutor.schemas import MessageRead
from twosigma.users.models import User, UserProfile

CONVERSATION_ROLES = (MessageRole.USER, MessageRole.ASSISTANT)

# The statements of every tutor turn are built once, with bound parameters: building a select or an update
# costs SQLAlchemy more CPU than executing its cached compiled form (a turn runs about ten of them).
_OWN_SESSION = (
    select(ChatSession)
    .where(ChatSession.id == bindparam("session_id"), ChatSession.user_id == bindparam("user_id"))
    .execution_options(populate_existing=True)
)
_MESSAGES = cast(Table, ChatMessage.__table__)
_SESSIONS = cast(Table, ChatSession.__table__)
# A message and its session's `updated_at` in ONE statement (a data-modifying CTE runs whether or not it is read):
# a tutor turn stores two messages, and each would otherwise be an INSERT and an UPDATE.
_ADD_MESSAGE = (
    insert(_MESSAGES)
    .values(
        session_id=bindparam("session_id", type_=_MESSAGES.c.session_id.type),
        role=bindparam("role", type_=_MESSAGES.c.role.type),
        content=bindparam("content", type_=_MESSAGES.c.content.type),
        meta=bindparam("meta", type_=_MESSAGES.c.meta.type),
    )
    .add_cte(
        update(_SESSIONS)
        .where(_SESSIONS.c.id == bindparam("session_id", type_=_SESSIONS.c.id.type))
        .values(updated_at=func.now())
        .cte("touched")
    )
    .returning(_MESSAGES.c.id, _MESSAGES.c.created_at)
)
_HISTORY_BATCH = (
    select(
        ChatMessage.id,
        ChatMessage.role,
        ChatMessage.content,
        ChatMessage.meta["incomplete"].as_boolean().label("incomplete"),
    )
    .where(
        ChatMessage.session_id == bindparam("session_id"),
        ChatMessage.role.in_(CONVERSATION_ROLES),
        ChatMessage.id <= bindparam("upto"),
        ChatMessage.id < bindparam("below"),
    )
    .order_by(ChatMessage.id.desc())
    .limit(bindparam("size", type_=Integer))
)
_STUDENT = (
    select(User, UserProfile)
    .outerjoin(UserProfile, UserProfile.user_id == User.id)
    .where(User.id == bindparam("user_id"))
    .execution_options(populate_existing=True)
)


# --- Sessions ------------------------------------------------------------------------------------------------------


async def own_session(session: AsyncSession, session_id: int, user_id: int) -> ChatSession | None:
    """The chat session if it belongs to `user_id` (anyone else's is indistinguishable from a missing one)."""
    return (await session.scalars(_OWN_SESSION, {"session_id": session_id, "user_id": user_id})).one_or_none()


def own_sessions_query(user_id: int, content_item_id: int | None) -> Select[ChatSession]:
    stmt = select(ChatSession).where(ChatSession.user_id == user_id)
    if content_item_id is not None:
        stmt = stmt.where(ChatSession.content_item_id == content_item_id)
    return stmt.order_by(ChatSession.updated_at.desc(), ChatSession.id.desc())


async def shared_session(session: AsyncSession, token: str) -> ChatSession | None:
    stmt = select(ChatSession).where(ChatSession.share_token == token, ChatSession.share_enabled.is_(True))
    return (await session.scalars(stmt)).one_or_none()


async def add_message(
    session: AsyncSession, session_id: int, role: MessageRole, content: str, meta: dict[str, Any]
) -> MessageRead:
    """Store a message and move its session's `updated_at`, in one statement; the stored message back."""
    params = {"session_id": session_id, "role": role, "content": content, "meta": meta}
    row = (await session.execute(_ADD_MESSAGE, params)).one()
    return MessageRead(
        id=row.id, session_id=session_id, role=role, content=content, meta=meta, created_at=row.created_at
    )


async def item_names(session: AsyncSession, item: ContentItem) -> tuple[str, str, bool]:
    """The item's module title, content type name and whether that type is gradable (for the context snapshot), in
    one query."""
    stmt = (
        select(
            Module.title.label("module_title"),
            ContentType.name.label("content_type"),
            ContentType.gradable.label("gradable"),
        )
        .select_from(ContentItem)
        .join(Module, Module.id == ContentItem.module_id)
        .join(ContentType, ContentType.id == ContentItem.content_type_id)
        .where(ContentItem.id == item.id)
    )
    row = (await session.execute(stmt)).one()
    return row.module_title, row.content_type, bool(row.gradable)


async def item_prompt(session: AsyncSession, item_id: int) -> tuple[str | None, str] | None:
    """The item's current (prompt_name, prompt_label), or None when the item is gone."""
    stmt = select(ContentItem.prompt_name, ContentItem.prompt_label).where(ContentItem.id == item_id)
    row = (await session.execute(stmt)).one_or_none()
    return (row.prompt_name, row.prompt_label) if row is not None else None


# --- Messages ------------------------------------------------------------------------------------------------------


async def message_page(session: AsyncSession, session_id: int, before: int | None, limit: int) -> Sequence[ChatMessage]:
    """Up to `limit` + 1 messages older than `before`, newest first (the extra row says whether more exist)."""
    stmt = select(ChatMessage).where(ChatMessage.session_id == session_id)
    if before is not None:
        stmt = stmt.where(ChatMessage.id < before)
    return (await session.scalars(stmt.order_by(ChatMessage.id.desc()).limit(limit + 1))).all()


async def shared_page(session: AsyncSession, session_id: int, after: int | None, limit: int) -> Sequence[Any]:
    """USER and ASSISTANT messages after `after`, oldest first, `limit` + 1 rows; columns only (no meta)."""
    stmt = select(ChatMessage.id, ChatMessage.role, ChatMessage.content, ChatMessage.created_at).where(
        ChatMessage.session_id == session_id, ChatMessage.role.in_(CONVERSATION_ROLES)
    )
    if after is not None:
        stmt = stmt.where(ChatMessage.id > after)
    return (await session.execute(stmt.order_by(ChatMessage.id).limit(limit + 1))).all()


async def history_batch(
    session: AsyncSession, session_id: int, upto: int, below: int | None, size: int
) -> Sequence[Any]:
    """Conversation messages with id <= `upto` (and < `below`), newest first, at most `size` rows."""
    params = {"session_id": session_id, "upto": upto, "below": upto + 1 if below is None else below, "size": size}
    return (await session.execute(_HISTORY_BATCH, params)).all()


async def last_user_message(session: AsyncSession, session_id: int) -> ChatMessage | None:
    stmt = (
        select(ChatMessage)
        .where(ChatMessage.session_id == session_id, ChatMessage.role == MessageRole.USER)
        .order_by(ChatMessage.id.desc())
        .limit(1)
    )
    return (await session.scalars(stmt)).one_or_none()


async def own_message(session: AsyncSession, message_id: int, user_id: int) -> ChatMessage | None:
    stmt = (
        select(ChatMessage)
        .join(ChatSession, ChatSession.id == ChatMessage.session_id)
        .where(ChatMessage.id == message_id, ChatSession.user_id == user_id)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(stmt)).one_or_none()


async def message_in_session(session: AsyncSession, message_id: int, session_id: int) -> bool:
    stmt = select(ChatMessage.id).where(ChatMessage.id == message_id, ChatMessage.session_id == session_id)
    return (await session.scalar(stmt)) is not None


async def tokens_since(session: AsyncSession, user_id: int, since: datetime) -> int:
    """Input + output tokens of the user's assistant messages created since `since`."""
    tokens = func.coalesce(ChatMessage.meta["input_tokens"].astext.cast(Integer), 0) + func.coalesce(
        ChatMessage.meta["output_tokens"].astext.cast(Integer), 0
    )
    stmt = (
        select(func.coalesce(func.sum(tokens), 0))
        .select_from(ChatMessage)
        .join(ChatSession, ChatSession.id == ChatMessage.session_id)
        .where(
            ChatSession.user_id == user_id,
            ChatMessage.role == MessageRole.ASSISTANT,
            ChatMessage.created_at >= since,
        )
    )
    return int(await session.scalar(stmt) or 0)


# --- The student ---------------------------------------------------------------------------------------------------


async def student(session: AsyncSession, user_id: int) -> tuple[User, UserProfile | None]:
    """The student and their profile."""
    row = (await session.execute(_STUDENT, {"user_id": user_id})).one()
    return row.User, row.UserProfile


# --- Notes ---------------------------------------------------------------------------------------------------------


def notes_query(session_id: int) -> Select[ChatNote]:
    return select(ChatNote).where(ChatNote.session_id == session_id).order_by(ChatNote.id)


async def own_note(session: AsyncSession, note_id: int, user_id: int) -> ChatNote | None:
    stmt = (
        select(ChatNote)
        .join(ChatSession, ChatSession.id == ChatNote.session_id)
        .where(ChatNote.id == note_id, ChatSession.user_id == user_id)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(stmt)).one_or_none()


async def delete_sessions_where(session: AsyncSession, condition: ColumnElement[bool]) -> tuple[int, int]:
    """Delete the chat sessions matching `condition` (their messages, notes and share links go with them, ON
    DELETE CASCADE); (sessions, messages) deleted."""
    ids = list(await session.scalars(select(ChatSession.id).where(condition)))
    if not ids:
        return 0, 0
    messages = await session.scalar(
        select(func.count()).select_from(ChatMessage).where(ChatMessage.session_id.in_(ids))
    )
    await session.execute(
        delete(ChatSession).where(ChatSession.id.in_(ids)), execution_options={"synchronize_session": False}
    )
    return len(ids), int(messages or 0)


def of_user(user_id: int) -> ColumnElement[bool]:
    return ChatSession.user_id == user_id


def idle_in_university(university_id: int, cutoff: datetime) -> ColumnElement[bool]:
    """Sessions without a message since `cutoff` that belong to the university: about one of its courses' items,
    or about no item (none chosen, or the item deleted) and held by one of its members."""
    about_its_item = exists().where(
        ContentItem.id == ChatSession.content_item_id,
        Course.id == ContentItem.course_id,
        Course.university_id == university_id,
    )
    its_member = exists().where(
        UserUniversityRole.user_id == ChatSession.user_id, UserUniversityRole.university_id == university_id
    )
    return and_(
        ChatSession.updated_at < cutoff,
        or_(about_its_item, and_(ChatSession.content_item_id.is_(None), its_member)),
    )
