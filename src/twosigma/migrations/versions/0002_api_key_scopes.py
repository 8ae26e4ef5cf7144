"""API keys carry scopes (prompts:read, prompts:write, prompts:deploy); keys that existed keep read and write.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 05:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "api_keys",
        sa.Column(
            "scopes",
            postgresql.ARRAY(sa.String(length=32)),
            server_default=sa.text("'{prompts:read}'::varchar[]"),
            nullable=False,
        ),
    )
    # Every key made before scopes existed could read and write prompts; keep that, but not deploy.
    op.execute("UPDATE api_keys SET scopes = '{prompts:read,prompts:write}'::varchar[]")


def downgrade() -> None:
    op.drop_column("api_keys", "scopes")
