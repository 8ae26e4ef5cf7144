"""Tutor governance (issue 22): tutor policies per university and course, the cost ledger of tutor turns, safety
flags, and a university's own LLM provider settings.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08 03:40:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _now(name: str) -> "sa.Column[Any]":
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "university_tutor_policies",
        sa.Column("university_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=True),
        sa.Column("monthly_budget_usd", sa.Float(), nullable=True),
        sa.Column("user_daily_budget_usd", sa.Float(), nullable=True),
        sa.Column("chat_visibility", sa.String(length=16), nullable=True),
        sa.Column("support_text", sa.Text(), nullable=True),
        sa.Column("safety_contact_email", sa.String(length=255), nullable=True),
        _now("updated_at"),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["universities.id"],
            name=op.f("fk_university_tutor_policies_university_id_universities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("university_id", name=op.f("pk_university_tutor_policies")),
    )
    op.create_table(
        "course_tutor_policies",
        sa.Column("course_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=True),
        sa.Column("monthly_budget_usd", sa.Float(), nullable=True),
        sa.Column("user_daily_budget_usd", sa.Float(), nullable=True),
        _now("updated_at"),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_course_tutor_policies_course_id_courses"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("course_id", name=op.f("pk_course_tutor_policies")),
    )
    op.create_table(
        "tutor_usage",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("course_id", sa.Integer(), nullable=True),
        sa.Column("university_id", sa.Integer(), nullable=True),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("provider", sa.String(length=32), nullable=True),
        sa.Column("model", sa.String(length=255), nullable=False),
        sa.Column("input_tokens", sa.Integer(), nullable=False),
        sa.Column("output_tokens", sa.Integer(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        _now("created_at"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_tutor_usage_user_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_tutor_usage_course_id_courses"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["universities.id"],
            name=op.f("fk_tutor_usage_university_id_universities"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["chat_messages.id"],
            name=op.f("fk_tutor_usage_message_id_chat_messages"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tutor_usage")),
    )
    op.create_index(op.f("ix_tutor_usage_user_id_created_at"), "tutor_usage", ["user_id", "created_at"])
    op.create_index(op.f("ix_tutor_usage_course_id_created_at"), "tutor_usage", ["course_id", "created_at"])
    op.create_index(op.f("ix_tutor_usage_university_id_created_at"), "tutor_usage", ["university_id", "created_at"])
    op.create_index(op.f("ix_tutor_usage_created_at"), "tutor_usage", ["created_at"])
    op.create_index(op.f("ix_tutor_usage_message_id"), "tutor_usage", ["message_id"])
    op.create_table(
        "tutor_flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("university_id", sa.Integer(), nullable=True),
        sa.Column("course_id", sa.Integer(), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("screen", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("escalated", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default=sa.text("'open'"), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("handled_by_id", sa.Integer(), nullable=True),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        _now("created_at"),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["chat_messages.id"],
            name=op.f("fk_tutor_flags_message_id_chat_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["chat_sessions.id"],
            name=op.f("fk_tutor_flags_session_id_chat_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_tutor_flags_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["universities.id"],
            name=op.f("fk_tutor_flags_university_id_universities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_tutor_flags_course_id_courses"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["handled_by_id"], ["users.id"], name=op.f("fk_tutor_flags_handled_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tutor_flags")),
    )
    op.create_index(op.f("ix_tutor_flags_message_id"), "tutor_flags", ["message_id"])
    op.create_index(op.f("ix_tutor_flags_session_id"), "tutor_flags", ["session_id"])
    op.create_index(op.f("ix_tutor_flags_user_id"), "tutor_flags", ["user_id"])
    op.create_index(op.f("ix_tutor_flags_course_id"), "tutor_flags", ["course_id"])
    op.create_index(op.f("ix_tutor_flags_handled_by_id"), "tutor_flags", ["handled_by_id"])
    op.create_index(
        op.f("ix_tutor_flags_university_id_status_created_at"), "tutor_flags", ["university_id", "status", "created_at"]
    )

    op.create_table(
        "university_settings",
        sa.Column("university_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("setting_key", sa.String(length=100), nullable=False),
        sa.Column("setting_value", sa.Text(), nullable=False),
        sa.Column("is_encrypted", sa.Boolean(), nullable=False),
        _now("updated_at"),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["universities.id"],
            name=op.f("fk_university_settings_university_id_universities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("university_id", "setting_key", name=op.f("pk_university_settings")),
    )


def downgrade() -> None:
    op.drop_table("university_settings")
    op.drop_table("tutor_flags")  # its indexes go with it
    op.drop_index(op.f("ix_tutor_usage_message_id"), table_name="tutor_usage")
    op.drop_index(op.f("ix_tutor_usage_created_at"), table_name="tutor_usage")
    op.drop_index(op.f("ix_tutor_usage_university_id_created_at"), table_name="tutor_usage")
    op.drop_index(op.f("ix_tutor_usage_course_id_created_at"), table_name="tutor_usage")
    op.drop_index(op.f("ix_tutor_usage_user_id_created_at"), table_name="tutor_usage")
    op.drop_table("tutor_usage")
    op.drop_table("course_tutor_policies")
    op.drop_table("university_tutor_policies")
