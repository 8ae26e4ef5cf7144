"""Escalated safety flags outlive their chat: `tutor_flags.message_id` and `session_id` become nullable and are set
NULL when the chat (or the message) is deleted, instead of deleting the flag. The governance domain deletes the
non-escalated flags of a chat itself before the chat goes (docs/tutor-governance.md "Flags and deleted chats").

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-08 04:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FKS = (
    ("message_id", "chat_messages", "fk_tutor_flags_message_id_chat_messages"),
    ("session_id", "chat_sessions", "fk_tutor_flags_session_id_chat_sessions"),
)


def _refer(ondelete: str) -> None:
    for column, table, name in _FKS:
        op.drop_constraint(name, "tutor_flags", type_="foreignkey")
        op.create_foreign_key(name, "tutor_flags", table, [column], ["id"], ondelete=ondelete)


def upgrade() -> None:
    _refer("SET NULL")
    for column, _, _ in _FKS:
        op.alter_column("tutor_flags", column, existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    # The flags whose chat is gone cannot point at it again: they go, as they did before this revision.
    op.execute("DELETE FROM tutor_flags WHERE message_id IS NULL OR session_id IS NULL")
    for column, _, _ in _FKS:
        op.alter_column("tutor_flags", column, existing_type=sa.Integer(), nullable=False)
    _refer("CASCADE")
