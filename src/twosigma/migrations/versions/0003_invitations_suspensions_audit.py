"""Invitations (staff reach non-members by email), member suspensions per university, and the audit log.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Types that exist already (0001): referenced, never created or dropped here.
_USER_ROLE = postgresql.ENUM(name="user_role", create_type=False)
_ENROLLMENT_STATUS = postgresql.ENUM(name="enrollment_status", create_type=False)


def upgrade() -> None:
    invitation_kind = postgresql.ENUM("ROLE", "ENROLLMENT", name="invitation_kind")
    invitation_status = postgresql.ENUM("PENDING", "ACCEPTED", "DECLINED", "REVOKED", name="invitation_status")
    invitation_kind.create(op.get_bind())
    invitation_status.create(op.get_bind())

    op.create_table(
        "member_suspensions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("university_id", sa.Integer(), nullable=False),
        sa.Column("suspended_by_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_member_suspensions_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["universities.id"],
            name=op.f("fk_member_suspensions_university_id_universities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["suspended_by_id"],
            ["users.id"],
            name=op.f("fk_member_suspensions_suspended_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_suspensions")),
        sa.UniqueConstraint("user_id", "university_id", name=op.f("uq_member_suspensions_user_id_university_id")),
    )
    op.create_index(op.f("ix_member_suspensions_university_id"), "member_suspensions", ["university_id"], unique=False)
    op.create_index(
        op.f("ix_member_suspensions_suspended_by_id"), "member_suspensions", ["suspended_by_id"], unique=False
    )

    op.create_table(
        "invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("university_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("kind", postgresql.ENUM(name="invitation_kind", create_type=False), nullable=False),
        sa.Column("role", _USER_ROLE, nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("course_offering_id", sa.Integer(), nullable=True),
        sa.Column("enrollment_status", _ENROLLMENT_STATUS, nullable=True),
        sa.Column(
            "status",
            postgresql.ENUM(name="invitation_status", create_type=False),
            server_default=sa.text("'PENDING'"),
            nullable=False,
        ),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("invited_by_id", sa.Integer(), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(kind = 'ROLE' AND role IS NOT NULL AND course_offering_id IS NULL AND enrollment_status IS NULL)"
            " OR (kind = 'ENROLLMENT' AND course_offering_id IS NOT NULL AND role IS NULL AND department_id IS NULL"
            " AND enrollment_status IS NOT NULL)",
            name=op.f("ck_invitations_target_matches_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["universities.id"],
            name=op.f("fk_invitations_university_id_universities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_invitations_department_id_departments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["course_offering_id"],
            ["course_offerings.id"],
            name=op.f("fk_invitations_course_offering_id_course_offerings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["invited_by_id"], ["users.id"], name=op.f("fk_invitations_invited_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["closed_by_id"], ["users.id"], name=op.f("fk_invitations_closed_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_invitations_token_hash")),
    )
    op.create_index(
        op.f("ix_invitations_university_id_created_at"), "invitations", ["university_id", "created_at"], unique=False
    )
    op.create_index(op.f("ix_invitations_email_status"), "invitations", ["email", "status"], unique=False)
    op.create_index(op.f("ix_invitations_department_id"), "invitations", ["department_id"], unique=False)
    op.create_index(op.f("ix_invitations_course_offering_id"), "invitations", ["course_offering_id"], unique=False)
    op.create_index(op.f("ix_invitations_invited_by_id"), "invitations", ["invited_by_id"], unique=False)
    op.create_index(op.f("ix_invitations_closed_by_id"), "invitations", ["closed_by_id"], unique=False)

    op.create_table(
        "audit_events",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("university_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_email", sa.String(length=255), nullable=True),
        sa.Column("target_user_id", sa.Integer(), nullable=True),
        sa.Column("target_email", sa.String(length=255), nullable=True),
        sa.Column("resource_type", sa.String(length=32), nullable=True),
        sa.Column("resource_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "details", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    op.create_index(
        op.f("ix_audit_events_university_id_created_at"),
        "audit_events",
        ["university_id", "created_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_audit_events_university_id_created_at"), table_name="audit_events")
    op.drop_table("audit_events")
    op.drop_index(op.f("ix_invitations_closed_by_id"), table_name="invitations")
    op.drop_index(op.f("ix_invitations_invited_by_id"), table_name="invitations")
    op.drop_index(op.f("ix_invitations_course_offering_id"), table_name="invitations")
    op.drop_index(op.f("ix_invitations_department_id"), table_name="invitations")
    op.drop_index(op.f("ix_invitations_email_status"), table_name="invitations")
    op.drop_index(op.f("ix_invitations_university_id_created_at"), table_name="invitations")
    op.drop_table("invitations")
    op.drop_index(op.f("ix_member_suspensions_suspended_by_id"), table_name="member_suspensions")
    op.drop_index(op.f("ix_member_suspensions_university_id"), table_name="member_suspensions")
    op.drop_table("member_suspensions")
    # Enum types outlive their tables unless dropped explicitly; user_role and enrollment_status belong to 0001.
    postgresql.ENUM(name="invitation_status").drop(op.get_bind(), checkfirst=True)
    postgresql.ENUM(name="invitation_kind").drop(op.get_bind(), checkfirst=True)
