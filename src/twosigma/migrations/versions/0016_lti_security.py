"""LTI security review (docs/lti.md, "Security"): an identity belongs to the platform registration that created it
(unique on `(platform_id, subject)`, no longer `(issuer, subject)`), and a platform's admin role grant is opt-in
(`lti_platforms.grant_admin_role`, default false).

Existing identities keep their rows: every one already carries the platform that created it (`platform_id`, NOT
NULL since 0012), and since `(issuer, subject)` was unique and a platform has one issuer, `(platform_id, subject)` is
unique for every existing row, so the new constraint is created without touching a row.

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-08 04:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint(op.f("uq_lti_identities_issuer_subject"), "lti_identities", type_="unique")
    op.create_unique_constraint(
        op.f("uq_lti_identities_platform_id_subject"), "lti_identities", ["platform_id", "subject"]
    )
    op.add_column(
        "lti_platforms",
        sa.Column("grant_admin_role", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("lti_platforms", "grant_admin_role")
    op.drop_constraint(op.f("uq_lti_identities_platform_id_subject"), "lti_identities", type_="unique")
    # Fails if two platforms of one issuer hold identities of the same subject: those are distinct people now.
    op.create_unique_constraint(op.f("uq_lti_identities_issuer_subject"), "lti_identities", ["issuer", "subject"])
