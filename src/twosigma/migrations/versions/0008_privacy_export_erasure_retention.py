"""Take it or erase it (issue 20): data exports, erased accounts, chat retention per university.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("university_access_policies", sa.Column("chat_retention_days", sa.Integer(), nullable=True))
    op.create_table(
        "data_exports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default=sa.text("'PENDING'"), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=1000), nullable=True),
        sa.Column("archive", sa.LargeBinary(), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_data_exports_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_exports")),
    )
    op.create_index(op.f("ix_data_exports_user_id"), "data_exports", ["user_id"])
    op.create_index(op.f("ix_data_exports_status_next_attempt_at"), "data_exports", ["status", "next_attempt_at"])
    op.create_index(op.f("ix_data_exports_expires_at"), "data_exports", ["expires_at"])
    op.create_table(
        "chat_retention_runs",
        sa.Column("run_on", sa.Date(), autoincrement=False, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("universities", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("sessions_deleted", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("messages_deleted", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("run_on", name=op.f("pk_chat_retention_runs")),
    )


def downgrade() -> None:
    op.drop_table("chat_retention_runs")
    op.drop_index(op.f("ix_data_exports_expires_at"), table_name="data_exports")
    op.drop_index(op.f("ix_data_exports_status_next_attempt_at"), table_name="data_exports")
    op.drop_index(op.f("ix_data_exports_user_id"), table_name="data_exports")
    op.drop_table("data_exports")
    op.drop_column("university_access_policies", "chat_retention_days")
    op.drop_column("users", "erased_at")
