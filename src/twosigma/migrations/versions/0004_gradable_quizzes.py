"""Assessments: gradable content types and graded quiz attempts (issue 19).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-08 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("content_types", sa.Column("gradable", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        "quiz_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("course_offering_id", sa.Integer(), nullable=False),
        sa.Column("content_item_id", sa.Integer(), nullable=False),
        sa.Column("attempt_number", sa.Integer(), nullable=False),
        sa.Column("quiz_version", sa.String(length=64), nullable=False),
        sa.Column("answers", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("results", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("points", sa.Float(), nullable=False),
        sa.Column("max_points", sa.Float(), nullable=False),
        sa.Column("score_percent", sa.Float(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("attempt_number >= 1", name=op.f("ck_quiz_attempts_attempt_number_positive")),
        sa.CheckConstraint("score_percent BETWEEN 0 AND 100", name=op.f("ck_quiz_attempts_score_percent_range")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_quiz_attempts_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["course_offering_id"],
            ["course_offerings.id"],
            name=op.f("fk_quiz_attempts_course_offering_id_course_offerings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["content_item_id"],
            ["content_items.id"],
            name=op.f("fk_quiz_attempts_content_item_id_content_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiz_attempts")),
        sa.UniqueConstraint(
            "user_id",
            "course_offering_id",
            "content_item_id",
            "attempt_number",
            name=op.f("uq_quiz_attempts_attempt"),
        ),
    )
    op.create_index(
        op.f("ix_quiz_attempts_course_offering_id_content_item_id"),
        "quiz_attempts",
        ["course_offering_id", "content_item_id"],
        unique=False,
    )
    op.create_index(op.f("ix_quiz_attempts_content_item_id"), "quiz_attempts", ["content_item_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_quiz_attempts_content_item_id"), table_name="quiz_attempts")
    op.drop_index(op.f("ix_quiz_attempts_course_offering_id_content_item_id"), table_name="quiz_attempts")
    op.drop_table("quiz_attempts")
    op.drop_column("content_types", "gradable")
