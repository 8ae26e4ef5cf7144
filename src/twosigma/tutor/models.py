"""AI tutor conversations: sessions, their messages, and the notes a learner takes on them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, false, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from twosigma.db.base import Base, created_at_column, updated_at_column
from twosigma.enums import MessageRole, pg_enum

if TYPE_CHECKING:
    from twosigma.content.models import ContentItem
    from twosigma.users.models import User


class ChatSession(Base):
    __tablename__ = "chat_sessions"
    __table_args__ = (
        # A user's sessions, most recently active first; also the index of the user_id FK.
        Index(None, "user_id", "updated_at"),
        Index(None, "content_context", postgresql_using="gin"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    # SET NULL: a chat outlives its content item; content_context keeps a readable snapshot of it.
    content_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("content_items.id", ondelete="SET NULL"), nullable=True, index=True
    )
    content_context: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default=text("'{}'::jsonb"))
    share_enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=false())
    share_token: Mapped[str | None] = mapped_column(String(255), nullable=True, unique=True)
    # The end of the active path (docs/tutor.md, "Branches"): the conversation shown and sent to the model is this
    # message and its ancestors. NULL: the session's newest message (none yet, or rows written without it). SET
    # NULL, and `use_alter`: the two tables refer to each other, and a session's messages go with it.
    active_leaf_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("chat_messages.id", ondelete="SET NULL", use_alter=True), nullable=True, index=True
    )
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    user: Mapped[User] = relationship(lazy="raise")
    content_item: Mapped[ContentItem | None] = relationship(lazy="raise")


class ChatMessage(Base):
    __tablename__ = "chat_messages"
    __table_args__ = (
        # Serves the session_id FK and the session's newest message.
        Index(None, "session_id", "id"),
        # A message's children (its replies, its edits and regenerations: siblings) and, with `IS NULL`, a
        # session's roots; also the self-referencing FK's index (a session's erasure deletes every message).
        Index(None, "parent_message_id", "session_id"),
        # A parent is always older than its child: no cycles, and the ids along a path increase.
        CheckConstraint("parent_message_id < id", name="parent_before_child"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("chat_sessions.id", ondelete="CASCADE"), nullable=False)
    # The message this one follows (NULL: the first of the conversation). Siblings share a parent: an edited user
    # message, a regenerated reply. CASCADE: a message's branch goes with it (nothing deletes single messages).
    parent_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("chat_messages.id", ondelete="CASCADE"), nullable=True
    )
    role: Mapped[MessageRole] = mapped_column(pg_enum(MessageRole, "message_role"), nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    meta: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default=text("'{}'::jsonb"))
    created_at: Mapped[datetime] = created_at_column()

    session: Mapped[ChatSession] = relationship(lazy="raise", foreign_keys=[session_id])


class ChatNote(Base):
    __tablename__ = "chat_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("chat_sessions.id", ondelete="CASCADE"), nullable=False, index=True
    )
    # SET NULL: deleting a message keeps the note the learner wrote about it.
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("chat_messages.id", ondelete="SET NULL"), nullable=True, index=True
    )
    content: Mapped[str] = mapped_column(Text, nullable=False)
    selected_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = created_at_column()

    session: Mapped[ChatSession] = relationship(lazy="raise")
    message: Mapped[ChatMessage | None] = relationship(lazy="raise")
