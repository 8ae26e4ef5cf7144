"""Every query of the tutor domain."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Integer,
    Select,
    Table,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    literal_column,
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
# A message and its session's `updated_at` and active leaf in ONE statement (data-modifying CTEs run whether or not
# they are read): a tutor turn stores two messages, and each would otherwise be an INSERT and an UPDATE. The new
# message becomes the active leaf when `activate` is set (the student's own message: a send, an edit) or when the
# active leaf is still its parent (a reply to the path the student is on; if they switched branches while it
# streamed, their choice stands and the reply waits on its own branch).
_INSERTED = (
    insert(_MESSAGES)
    .values(
        session_id=bindparam("session_id", type_=_MESSAGES.c.session_id.type),
        parent_message_id=bindparam("parent_id", type_=_MESSAGES.c.parent_message_id.type),
        role=bindparam("role", type_=_MESSAGES.c.role.type),
        content=bindparam("content", type_=_MESSAGES.c.content.type),
        meta=bindparam("meta", type_=_MESSAGES.c.meta.type),
    )
    .returning(_MESSAGES.c.id, _MESSAGES.c.created_at)
    .cte("inserted")
)
_LEAF = _SESSIONS.c.active_leaf_message_id
_ADD_MESSAGE = select(_INSERTED.c.id, _INSERTED.c.created_at).add_cte(
    update(_SESSIONS)
    .where(_SESSIONS.c.id == bindparam("session_id", type_=_SESSIONS.c.id.type))
    .values(
        updated_at=func.now(),
        active_leaf_message_id=case(
            (
                or_(
                    bindparam("activate", type_=Boolean),
                    _LEAF.is_not_distinct_from(bindparam("parent_id", type_=_MESSAGES.c.parent_message_id.type)),
                ),
                select(_INSERTED.c.id).scalar_subquery(),
            ),
            else_=_LEAF,
        ),
    )
    .cte("touched")
)


def _walk_up(columns: Sequence[str], name: str) -> Any:
    """A CTE of `columns` of the messages on the path up from `start` (itself first, then its parent, …), at most
    `size` of them, with their `depth` (1, 2, …): a recursive walk along `parent_message_id`, one primary-key lookup
    a step. The depth bound in the recursive term stops the walk after `size` rows whatever the plan."""
    m = _MESSAGES
    up = (
        select(*[m.c[c] for c in columns], literal_column("1", Integer).label("depth"))
        .where(m.c.id == bindparam("start"), m.c.session_id == bindparam("session_id"))
        .cte(name, recursive=True)
    )
    parent = m.alias("parent")
    return up.union_all(
        select(*[parent.c[c] for c in columns], up.c.depth + literal_column("1", Integer))
        .join(up, parent.c.id == up.c.parent_message_id)
        .where(up.c.depth < bindparam("size", type_=Integer))
    )


_MESSAGE_COLUMNS = ("id", "session_id", "parent_message_id", "role", "content", "meta", "created_at")
_HISTORY_WALK = _walk_up(("id", "parent_message_id", "role", "content", "meta"), "history")
_HISTORY_BATCH = select(
    _HISTORY_WALK.c.id,
    _HISTORY_WALK.c.parent_message_id,
    _HISTORY_WALK.c.role,
    _HISTORY_WALK.c.content,
    _HISTORY_WALK.c.meta["incomplete"].as_boolean().label("incomplete"),
).order_by(_HISTORY_WALK.c.depth)
_PATH_WALK = _walk_up(_MESSAGE_COLUMNS, "path")
_PATH_PAGE = select(*[_PATH_WALK.c[c] for c in _MESSAGE_COLUMNS]).order_by(_PATH_WALK.c.depth)
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
    session: AsyncSession,
    session_id: int,
    role: MessageRole,
    content: str,
    meta: dict[str, Any],
    *,
    parent_id: int | None,
    activate: bool,
) -> MessageRead:
    """Store a message after `parent_id` and move its session's `updated_at` (and, see _ADD_MESSAGE, its active
    leaf), in one statement; the stored message back."""
    params = {
        "session_id": session_id,
        "parent_id": parent_id,
        "role": role,
        "content": content,
        "meta": meta,
        "activate": activate,
    }
    row = (await session.execute(_ADD_MESSAGE, params)).one()
    return MessageRead(
        id=row.id,
        session_id=session_id,
        parent_message_id=parent_id,
        role=role,
        content=content,
        meta=meta,
        created_at=row.created_at,
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


async def newest_message_id(session: AsyncSession, session_id: int) -> int | None:
    stmt = select(func.max(ChatMessage.id)).where(ChatMessage.session_id == session_id)
    return await session.scalar(stmt)


async def active_leaf(session: AsyncSession, chat: ChatSession) -> int | None:
    """The end of the session's active path: the stored leaf, else (none stored) the newest message."""
    if chat.active_leaf_message_id is not None:
        return chat.active_leaf_message_id
    return await newest_message_id(session, chat.id)


async def set_active_leaf(session: AsyncSession, session_id: int, message_id: int) -> None:
    await session.execute(
        update(_SESSIONS).where(_SESSIONS.c.id == session_id).values(active_leaf_message_id=message_id)
    )


async def path_page(session: AsyncSession, session_id: int, start: int, limit: int) -> Sequence[Any]:
    """Up to `limit` + 1 messages of the path up from `start` (itself first); the extra row says whether more
    exist."""
    params = {"session_id": session_id, "start": start, "size": limit + 1}
    return (await session.execute(_PATH_PAGE, params)).all()


async def parent_in_session(session: AsyncSession, message_id: int, session_id: int) -> tuple[bool, int | None]:
    """(whether the message is in the session, its parent)."""
    stmt = select(ChatMessage.parent_message_id).where(
        ChatMessage.id == message_id, ChatMessage.session_id == session_id
    )
    row = (await session.execute(stmt)).one_or_none()
    return (row is not None, row.parent_message_id if row is not None else None)


async def sibling_ids(
    session: AsyncSession, session_id: int, parent_ids: Sequence[int], roots: bool
) -> dict[int | None, list[int]]:
    """Parent id (None: the session's roots, when `roots`) → its children's ids, oldest first (one query on the
    `(parent_message_id, session_id)` index)."""
    wanted: list[ColumnElement[bool]] = []
    if parent_ids:
        wanted.append(ChatMessage.parent_message_id.in_(sorted(set(parent_ids))))
    if roots:
        wanted.append(ChatMessage.parent_message_id.is_(None))
    if not wanted:
        return {}
    stmt = (
        select(ChatMessage.parent_message_id, ChatMessage.id)
        .where(ChatMessage.session_id == session_id, or_(*wanted))
        .order_by(ChatMessage.id)
    )
    out: dict[int | None, list[int]] = {}
    for parent_id, message_id in await session.execute(stmt):
        out.setdefault(parent_id, []).append(message_id)
    return out


async def deepest_latest_descendant(session: AsyncSession, message_id: int) -> int:
    """From `message_id` down, always to the newest child, to a message without children: its id (one recursive
    query; ids increase down a path, so the deepest is the largest)."""
    child = _MESSAGES.alias("child")
    down = select(bindparam("start", type_=Integer).label("id")).cte("down", recursive=True)
    newest_child = (
        select(child.c.id)
        .where(child.c.parent_message_id == down.c.id)
        .order_by(child.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    down = down.union_all(select(newest_child).where(down.c.id.is_not(None)))
    stmt = select(func.max(down.c.id))
    found = await session.scalar(stmt, {"start": message_id})
    return int(found) if found is not None else message_id


async def nearest_user_message(session: AsyncSession, session_id: int, start: int) -> ChatMessage | None:
    """The USER message at `start` or the closest above it on its path (the message a reply there answers)."""
    m = _MESSAGES
    up = (
        select(m.c.id, m.c.parent_message_id, m.c.role)
        .where(m.c.id == start, m.c.session_id == session_id)
        .cte("up", recursive=True)
    )
    parent = m.alias("parent")
    up = up.union_all(
        select(parent.c.id, parent.c.parent_message_id, parent.c.role)
        .join(up, parent.c.id == up.c.parent_message_id)
        .where(up.c.role != MessageRole.USER)
    )
    found = select(up.c.id).where(up.c.role == MessageRole.USER).scalar_subquery()
    stmt = select(ChatMessage).where(ChatMessage.id == found)
    return (await session.scalars(stmt)).one_or_none()


async def shared_page(
    session: AsyncSession, session_id: int, leaf: int | None, after: int | None, limit: int
) -> Sequence[Any]:
    """The active path's USER and ASSISTANT messages after `after`, oldest first, `limit` + 1 rows; columns only
    (no meta). The path is walked from the leaf to its root (ids increase along a path, so id order is path
    order)."""
    if leaf is None:
        return []
    m = _MESSAGES
    up = select(m.c.id, m.c.parent_message_id).where(m.c.id == leaf, m.c.session_id == session_id)
    path = up.cte("shared_path", recursive=True)
    parent = m.alias("parent")
    path = path.union_all(
        select(parent.c.id, parent.c.parent_message_id).join(path, parent.c.id == path.c.parent_message_id)
    )
    stmt = (
        select(ChatMessage.id, ChatMessage.role, ChatMessage.content, ChatMessage.created_at)
        .join(path, path.c.id == ChatMessage.id)
        .where(ChatMessage.role.in_(CONVERSATION_ROLES))
    )
    if after is not None:
        stmt = stmt.where(ChatMessage.id > after)
    return (await session.execute(stmt.order_by(ChatMessage.id).limit(limit + 1))).all()


async def history_batch(session: AsyncSession, session_id: int, start: int, size: int) -> Sequence[Any]:
    """At most `size` messages of the path up from `start` (itself first), every role, with whether a reply is
    incomplete."""
    rows = (await session.execute(_HISTORY_BATCH, {"session_id": session_id, "start": start, "size": size})).all()
    return rows


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


async def session_ids_where(session: AsyncSession, condition: ColumnElement[bool]) -> list[int]:
    return list(await session.scalars(select(ChatSession.id).where(condition)))


async def delete_sessions(session: AsyncSession, ids: list[int]) -> tuple[int, int]:
    """Delete these chat sessions (their messages, notes and share links go with them, ON DELETE CASCADE);
    (sessions, messages) deleted."""
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
