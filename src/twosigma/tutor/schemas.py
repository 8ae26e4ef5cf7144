"""Request and response shapes of the tutor: sessions, messages, notes, feedback, sharing."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from twosigma.enums import MessageRole
from twosigma.kit.schemas import ReadSchema, Schema

MAX_MESSAGE_CHARS = 20_000
MAX_NOTE_CHARS = 20_000
MAX_COMMENT_CHARS = 2_000


class ChatSessionCreate(Schema):
    content_item_id: int | None = Field(default=None, ge=1, le=2_147_483_647)


class ChatSessionRead(ReadSchema):
    id: int
    content_item_id: int | None
    content_context: dict[str, Any]
    share_enabled: bool
    share_token: str | None
    active_leaf_message_id: int | None = None  # the end of the active path; None: the newest message (or none)
    created_at: datetime
    updated_at: datetime


class MessageCreate(Schema):
    content: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)


class MessageRead(ReadSchema):
    id: int
    session_id: int
    parent_message_id: int | None = None  # the message it follows; None for the first (docs/tutor.md, "Branches")
    role: MessageRole
    content: str
    meta: dict[str, Any]
    created_at: datetime


class PathMessageRead(MessageRead):
    """A message of the active path, with the ids of every message sharing its parent (itself included), oldest
    first: a client shows "2 / 3" and activates another one to switch branch."""

    sibling_ids: list[int]


class MessagePage(BaseModel):
    """The active path, newest first. `next_before` is the cursor of the next (older) page, None on the last page."""

    items: list[PathMessageRead]
    limit: int
    next_before: int | None


class TurnRead(BaseModel):
    """The JSON answer of a send or a retry."""

    user_message: MessageRead
    assistant_message: MessageRead


class ShareRead(BaseModel):
    share_token: str
    share_url: str


class SharedMessageRead(BaseModel):
    role: MessageRole
    content: str
    created_at: datetime


class SharedChatRead(BaseModel):
    """What anyone with the link sees: the context's title and the conversation, oldest first."""

    title: str | None
    messages: list[SharedMessageRead]
    limit: int
    next_after: int | None


class NoteCreate(Schema):
    content: str = Field(min_length=1, max_length=MAX_NOTE_CHARS)
    selected_text: str | None = Field(default=None, max_length=MAX_NOTE_CHARS)
    message_id: int | None = Field(default=None, ge=1, le=2_147_483_647)


class NoteUpdate(Schema):
    content: str | None = Field(default=None, min_length=1, max_length=MAX_NOTE_CHARS)
    selected_text: str | None = Field(default=None, max_length=MAX_NOTE_CHARS)
    message_id: int | None = Field(default=None, ge=1, le=2_147_483_647)


class NoteRead(ReadSchema):
    id: int
    session_id: int
    message_id: int | None
    content: str
    selected_text: str | None
    created_at: datetime


class FeedbackCreate(Schema):
    rating: Literal["up", "down"]
    comment: str | None = Field(default=None, max_length=MAX_COMMENT_CHARS)
