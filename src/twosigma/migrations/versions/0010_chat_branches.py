"""Edit and regenerate (issue 21): messages form a tree, a session has one active path.

Every existing message is chained to the one before it in its session (by id), so each existing conversation is
one path, exactly as it was read before; each session's active leaf is its newest message.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08 03:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("chat_messages", sa.Column("parent_message_id", sa.Integer(), nullable=True))
    op.add_column("chat_sessions", sa.Column("active_leaf_message_id", sa.Integer(), nullable=True))
    # The data first, the constraints after: one pass over the table, checked once.
    op.execute(
        """
        UPDATE chat_messages AS m SET parent_message_id = chained.previous
        FROM (
            SELECT id, lag(id) OVER (PARTITION BY session_id ORDER BY id) AS previous FROM chat_messages
        ) AS chained
        WHERE m.id = chained.id AND chained.previous IS NOT NULL
        """
    )
    op.execute(
        """
        UPDATE chat_sessions AS s SET active_leaf_message_id = newest.id
        FROM (SELECT session_id, max(id) AS id FROM chat_messages GROUP BY session_id) AS newest
        WHERE s.id = newest.session_id
        """
    )
    op.create_foreign_key(
        op.f("fk_chat_messages_parent_message_id_chat_messages"),
        "chat_messages",
        "chat_messages",
        ["parent_message_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.create_check_constraint(op.f("ck_chat_messages_parent_before_child"), "chat_messages", "parent_message_id < id")
    op.create_index(
        op.f("ix_chat_messages_parent_message_id_session_id"),
        "chat_messages",
        ["parent_message_id", "session_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_chat_sessions_active_leaf_message_id"), "chat_sessions", ["active_leaf_message_id"], unique=False
    )
    op.create_foreign_key(
        op.f("fk_chat_sessions_active_leaf_message_id_chat_messages"),
        "chat_sessions",
        "chat_messages",
        ["active_leaf_message_id"],
        ["id"],
        ondelete="SET NULL",
    )


def downgrade() -> None:
    op.drop_constraint(
        op.f("fk_chat_sessions_active_leaf_message_id_chat_messages"), "chat_sessions", type_="foreignkey"
    )
    op.drop_index(op.f("ix_chat_sessions_active_leaf_message_id"), table_name="chat_sessions")
    op.drop_index(op.f("ix_chat_messages_parent_message_id_session_id"), table_name="chat_messages")
    op.drop_constraint(op.f("ck_chat_messages_parent_before_child"), "chat_messages", type_="check")
    op.drop_constraint(op.f("fk_chat_messages_parent_message_id_chat_messages"), "chat_messages", type_="foreignkey")
    op.drop_column("chat_sessions", "active_leaf_message_id")
    op.drop_column("chat_messages", "parent_message_id")
