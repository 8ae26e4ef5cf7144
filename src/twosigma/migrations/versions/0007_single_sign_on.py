"""Single sign-on per university (OpenID Connect) and who may join a university (issue 20).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08 01:30:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_EMPTY_TEXT_ARRAY = sa.text("'{}'::text[]")


def _created() -> "sa.Column[Any]":
    return sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "university_sso_providers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("university_id", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("client_id", sa.String(length=255), nullable=False),
        sa.Column("client_secret_encrypted", sa.Text(), nullable=False),
        sa.Column("scopes", postgresql.ARRAY(sa.Text()), server_default=_EMPTY_TEXT_ARRAY, nullable=False),
        sa.Column("claim_email", sa.String(length=100), server_default=sa.text("'email'"), nullable=False),
        sa.Column("claim_name", sa.String(length=100), server_default=sa.text("'name'"), nullable=False),
        sa.Column("claim_role", sa.String(length=100), nullable=True),
        sa.Column("claim_department", sa.String(length=100), nullable=True),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("authorization_endpoint", sa.String(length=1000), nullable=False),
        sa.Column("token_endpoint", sa.String(length=1000), nullable=False),
        sa.Column("jwks_uri", sa.String(length=1000), nullable=False),
        _created(),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["universities.id"],
            name=op.f("fk_university_sso_providers_university_id_universities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_university_sso_providers")),
        sa.UniqueConstraint("university_id", name=op.f("uq_university_sso_providers_university_id")),
    )
    op.create_table(
        "sso_identities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("role_claim", sa.String(length=255), nullable=True),
        sa.Column("department_claim", sa.String(length=255), nullable=True),
        _created(),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_sso_identities_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sso_identities")),
        sa.UniqueConstraint("issuer", "subject", name=op.f("uq_sso_identities_issuer_subject")),
    )
    op.create_index(op.f("ix_sso_identities_user_id"), "sso_identities", ["user_id"])
    op.create_table(
        "sso_login_states",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("university_id", sa.Integer(), nullable=False),
        sa.Column("nonce", sa.String(length=128), nullable=False),
        sa.Column("code_verifier", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        _created(),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["universities.id"],
            name=op.f("fk_sso_login_states_university_id_universities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sso_login_states")),
        sa.UniqueConstraint("state_hash", name=op.f("uq_sso_login_states_state_hash")),
    )
    op.create_index(op.f("ix_sso_login_states_university_id"), "sso_login_states", ["university_id"])
    op.create_table(
        "sso_exchange_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        _created(),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_sso_exchange_codes_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sso_exchange_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_sso_exchange_codes_code_hash")),
    )
    op.create_index(op.f("ix_sso_exchange_codes_user_id"), "sso_exchange_codes", ["user_id"])
    op.create_table(
        "university_access_policies",
        sa.Column("university_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("sso_required", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column(
            "allowed_email_domains", postgresql.ARRAY(sa.Text()), server_default=_EMPTY_TEXT_ARRAY, nullable=False
        ),
        sa.Column("require_verified_email", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["universities.id"],
            name=op.f("fk_university_access_policies_university_id_universities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("university_id", name=op.f("pk_university_access_policies")),
    )


def downgrade() -> None:
    op.drop_table("university_access_policies")
    op.drop_index(op.f("ix_sso_exchange_codes_user_id"), table_name="sso_exchange_codes")
    op.drop_table("sso_exchange_codes")
    op.drop_index(op.f("ix_sso_login_states_university_id"), table_name="sso_login_states")
    op.drop_table("sso_login_states")
    op.drop_index(op.f("ix_sso_identities_user_id"), table_name="sso_identities")
    op.drop_table("sso_identities")
    op.drop_table("university_sso_providers")
