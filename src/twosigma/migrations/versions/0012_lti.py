"""LTI 1.3 tool: platforms, the tool's keys, launches, identities and linked contexts (issue 23, docs/lti.md).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08 03:40:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_EMPTY_TEXT_ARRAY = sa.text("'{}'::text[]")


def _created() -> "sa.Column[Any]":
    return sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False)


def _updated() -> "sa.Column[Any]":
    return sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False)


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def _index(table: str, column: str) -> None:
    op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)


def upgrade() -> None:
    op.create_table(
        "lti_tool_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("private_key_encrypted", sa.Text(), nullable=False),
        sa.Column("public_jwk", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        _created(),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_tool_keys")),
        sa.UniqueConstraint("kid", name=op.f("uq_lti_tool_keys_kid")),
    )
    op.create_table(
        "lti_platforms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("university_id", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("client_id", sa.String(length=255), nullable=False),
        sa.Column("deployment_ids", postgresql.ARRAY(sa.Text()), server_default=_EMPTY_TEXT_ARRAY, nullable=False),
        sa.Column("auth_login_url", sa.String(length=1000), nullable=False),
        sa.Column("auth_token_url", sa.String(length=1000), nullable=False),
        sa.Column("jwks_url", sa.String(length=1000), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        _created(),
        _updated(),
        _fk("lti_platforms", "university_id", "universities", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_platforms")),
        sa.UniqueConstraint("issuer", "client_id", name=op.f("uq_lti_platforms_issuer_client_id")),
    )
    _index("lti_platforms", "university_id")
    op.create_table(
        "lti_login_states",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("nonce", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        _created(),
        _fk("lti_login_states", "platform_id", "lti_platforms", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_login_states")),
        sa.UniqueConstraint("state_hash", name=op.f("uq_lti_login_states_state_hash")),
    )
    _index("lti_login_states", "platform_id")
    op.create_table(
        "lti_identities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        _created(),
        sa.Column("last_launch_at", sa.DateTime(timezone=True), nullable=True),
        _fk("lti_identities", "user_id", "users", "CASCADE"),
        _fk("lti_identities", "platform_id", "lti_platforms", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_identities")),
        sa.UniqueConstraint("issuer", "subject", name=op.f("uq_lti_identities_issuer_subject")),
    )
    _index("lti_identities", "user_id")
    _index("lti_identities", "platform_id")
    op.create_table(
        "lti_contexts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("context_id", sa.String(length=255), nullable=False),
        sa.Column("course_offering_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=True),
        sa.Column("memberships_url", sa.String(length=1000), nullable=True),
        sa.Column("roster_synced_at", sa.DateTime(timezone=True), nullable=True),
        _created(),
        _updated(),
        _fk("lti_contexts", "platform_id", "lti_platforms", "CASCADE"),
        _fk("lti_contexts", "course_offering_id", "course_offerings", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_contexts")),
        sa.UniqueConstraint("platform_id", "context_id", name=op.f("uq_lti_contexts_platform_id_context_id")),
    )
    _index("lti_contexts", "course_offering_id")
    op.create_table(
        "lti_launch_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("frame_origins", postgresql.ARRAY(sa.Text()), server_default=_EMPTY_TEXT_ARRAY, nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        _created(),
        _fk("lti_launch_codes", "user_id", "users", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_launch_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_lti_launch_codes_code_hash")),
    )
    _index("lti_launch_codes", "user_id")
    op.create_table(
        "lti_pending_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("context_id", sa.String(length=255), nullable=False),
        sa.Column("context_title", sa.String(length=255), nullable=True),
        sa.Column("memberships_url", sa.String(length=1000), nullable=True),
        sa.Column("content_item_id", sa.Integer(), nullable=True),
        sa.Column("frame_origins", postgresql.ARRAY(sa.Text()), server_default=_EMPTY_TEXT_ARRAY, nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        _created(),
        _fk("lti_pending_links", "platform_id", "lti_platforms", "CASCADE"),
        _fk("lti_pending_links", "user_id", "users", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_pending_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_lti_pending_links_token_hash")),
    )
    _index("lti_pending_links", "platform_id")
    _index("lti_pending_links", "user_id")
    op.create_table(
        "lti_deep_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("deployment_id", sa.String(length=255), nullable=False),
        sa.Column("return_url", sa.String(length=1000), nullable=False),
        sa.Column("data", sa.Text(), nullable=True),
        sa.Column("frame_origins", postgresql.ARRAY(sa.Text()), server_default=_EMPTY_TEXT_ARRAY, nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        _created(),
        _fk("lti_deep_links", "platform_id", "lti_platforms", "CASCADE"),
        _fk("lti_deep_links", "user_id", "users", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_deep_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_lti_deep_links_token_hash")),
    )
    _index("lti_deep_links", "platform_id")
    _index("lti_deep_links", "user_id")
    op.create_table(
        "lti_registration_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("university_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("platform_id", sa.Integer(), nullable=True),
        _created(),
        _fk("lti_registration_links", "university_id", "universities", "CASCADE"),
        _fk("lti_registration_links", "created_by_id", "users", "SET NULL"),
        _fk("lti_registration_links", "platform_id", "lti_platforms", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_registration_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_lti_registration_links_token_hash")),
    )
    _index("lti_registration_links", "university_id")
    _index("lti_registration_links", "created_by_id")
    _index("lti_registration_links", "platform_id")
    op.create_table(
        "lti_line_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lti_context_id", sa.Integer(), nullable=False),
        sa.Column("content_item_id", sa.Integer(), nullable=True),
        sa.Column("lineitem_url", sa.String(length=1000), nullable=False),
        _created(),
        _updated(),
        _fk("lti_line_items", "lti_context_id", "lti_contexts", "CASCADE"),
        _fk("lti_line_items", "content_item_id", "content_items", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_line_items")),
        sa.UniqueConstraint(
            "lti_context_id", "content_item_id", name=op.f("uq_lti_line_items_lti_context_id_content_item_id")
        ),
    )
    _index("lti_line_items", "content_item_id")
    op.create_table(
        "lti_score_sends",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("line_item_id", sa.Integer(), nullable=False),
        sa.Column("quiz_attempt_id", sa.Integer(), nullable=True),
        sa.Column("course_enrollment_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", sa.String(length=20), server_default=sa.text("'PENDING'"), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        _created(),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('PENDING', 'SENDING', 'SENT', 'FAILED')", name=op.f("ck_lti_score_sends_status_known")
        ),
        _fk("lti_score_sends", "line_item_id", "lti_line_items", "CASCADE"),
        _fk("lti_score_sends", "quiz_attempt_id", "quiz_attempts", "CASCADE"),
        _fk("lti_score_sends", "course_enrollment_id", "course_enrollments", "CASCADE"),
        _fk("lti_score_sends", "user_id", "users", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_score_sends")),
        sa.UniqueConstraint(
            "line_item_id", "quiz_attempt_id", name=op.f("uq_lti_score_sends_line_item_id_quiz_attempt_id")
        ),
        sa.UniqueConstraint(
            "line_item_id",
            "course_enrollment_id",
            name=op.f("uq_lti_score_sends_line_item_id_course_enrollment_id"),
        ),
    )
    _index("lti_score_sends", "quiz_attempt_id")
    _index("lti_score_sends", "course_enrollment_id")
    _index("lti_score_sends", "user_id")
    op.create_index(op.f("ix_lti_score_sends_status_next_attempt_at"), "lti_score_sends", ["status", "next_attempt_at"])


def downgrade() -> None:
    for table in (
        "lti_score_sends",
        "lti_line_items",
        "lti_registration_links",
        "lti_deep_links",
        "lti_pending_links",
        "lti_launch_codes",
        "lti_contexts",
        "lti_identities",
        "lti_login_states",
        "lti_platforms",
        "lti_tool_keys",
    ):
        op.drop_table(table)
