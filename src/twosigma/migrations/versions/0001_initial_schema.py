"""Initial schema: every table of the schema reference plus the SPEC's additions.

Revision ID: 0001
Revises:
Create Date: 2026-11-26 07:20:15.133526
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "content_types",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_types")),
        sa.UniqueConstraint("name", name=op.f("uq_content_types_name")),
    )
    op.create_table(
        "countries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=2), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_countries")),
        sa.UniqueConstraint("code", name=op.f("uq_countries_code")),
    )
    op.create_table(
        "domains",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_domains")),
        sa.UniqueConstraint("name", name=op.f("uq_domains_name")),
    )
    op.create_table(
        "prompt_label_events",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("prompt_name", sa.String(length=255), nullable=False),
        sa.Column("label", sa.String(length=36), nullable=False),
        sa.Column("from_version", sa.Integer(), nullable=True),
        sa.Column("to_version", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prompt_label_events")),
    )
    op.create_index(
        op.f("ix_prompt_label_events_prompt_name_label_at"),
        "prompt_label_events",
        ["prompt_name", "label", "at"],
        unique=False,
    )
    op.create_table(
        "prompts",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=20), server_default=sa.text("'text'"), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=True),
        sa.Column("config", sa.JSON(), server_default=sa.text("'{}'::json"), nullable=False),
        sa.Column("labels", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("tags", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("commit_message", sa.String(length=500), nullable=True),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prompts")),
        sa.UniqueConstraint("name", "version", name=op.f("uq_prompts_name_version")),
    )
    op.create_index("ix_prompts_created_at", "prompts", ["created_at"], unique=False)
    op.create_index("ix_prompts_labels", "prompts", ["labels"], unique=False, postgresql_using="gin")
    op.create_index("ix_prompts_name", "prompts", ["name"], unique=False)
    op.create_index("ix_prompts_tags", "prompts", ["tags"], unique=False, postgresql_using="gin")
    op.create_table(
        "system_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("setting_key", sa.String(length=100), nullable=False),
        sa.Column("setting_value", sa.Text(), nullable=True),
        sa.Column("is_encrypted", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_system_settings")),
        sa.UniqueConstraint("setting_key", name=op.f("uq_system_settings_setting_key")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("full_name", sa.String(length=255), nullable=False),
        sa.Column("locale", sa.String(length=10), server_default=sa.text("'en'"), nullable=False),
        sa.Column("time_zone", sa.String(length=50), server_default=sa.text("'UTC'"), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("current_streak_days", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_activity_date", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )
    op.create_index(op.f("ix_users_email"), "users", ["email"], unique=True)
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("secret_hash", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_api_keys_created_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("public_key", name=op.f("uq_api_keys_public_key")),
    )
    op.create_index(op.f("ix_api_keys_created_by"), "api_keys", ["created_by"], unique=False)
    op.create_table(
        "feature_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("OPEN", "PLANNED", "IN_PROGRESS", "DONE", "DECLINED", name="feature_request_status"),
            server_default=sa.text("'OPEN'"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_feature_requests_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feature_requests")),
    )
    op.create_index(
        op.f("ix_feature_requests_status_created_at"), "feature_requests", ["status", "created_at"], unique=False
    )
    op.create_index(op.f("ix_feature_requests_user_id"), "feature_requests", ["user_id"], unique=False)
    op.create_table(
        "prompt_dependencies",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("parent_id", sa.BigInteger(), nullable=False),
        sa.Column("child_name", sa.String(length=255), nullable=False),
        sa.Column("child_version", sa.Integer(), nullable=True),
        sa.Column("child_label", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "(child_version IS NULL) <> (child_label IS NULL)",
            name=op.f("ck_prompt_dependencies_child_version_xor_label"),
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["prompts.id"], name=op.f("fk_prompt_dependencies_parent_id_prompts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prompt_dependencies")),
    )
    op.create_index("ix_prompt_deps_child", "prompt_dependencies", ["child_name"], unique=False)
    op.create_index("ix_prompt_deps_parent", "prompt_dependencies", ["parent_id"], unique=False)
    op.create_table(
        "refresh_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("jti", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replaced_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_refresh_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refresh_tokens")),
        sa.UniqueConstraint("jti", name=op.f("uq_refresh_tokens_jti")),
    )
    op.create_index(op.f("ix_refresh_tokens_family_id"), "refresh_tokens", ["family_id"], unique=False)
    op.create_index(op.f("ix_refresh_tokens_user_id"), "refresh_tokens", ["user_id"], unique=False)
    op.create_table(
        "subjects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("domain_id", sa.Integer(), nullable=False),
        sa.Column("parent_subject_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["domain_id"], ["domains.id"], name=op.f("fk_subjects_domain_id_domains"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["parent_subject_id"],
            ["subjects.id"],
            name=op.f("fk_subjects_parent_subject_id_subjects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subjects")),
    )
    op.create_index(op.f("ix_subjects_domain_id"), "subjects", ["domain_id"], unique=False)
    op.create_index(op.f("ix_subjects_parent_subject_id"), "subjects", ["parent_subject_id"], unique=False)
    op.create_table(
        "universities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("short_code", sa.String(length=20), nullable=False),
        sa.Column("country_id", sa.Integer(), nullable=False),
        sa.Column("time_zone", sa.String(length=50), server_default=sa.text("'UTC'"), nullable=False),
        sa.Column("website_url", sa.String(length=255), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.ForeignKeyConstraint(
            ["country_id"], ["countries.id"], name=op.f("fk_universities_country_id_countries"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_universities")),
        sa.UniqueConstraint("country_id", "short_code", name=op.f("uq_universities_country_id_short_code")),
    )
    op.create_table(
        "user_profiles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column(
            "learning_goal",
            sa.Enum(
                "CAREER_ADVANCEMENT",
                "SKILL_DEVELOPMENT",
                "ACADEMIC_REQUIREMENT",
                "PERSONAL_INTEREST",
                "CERTIFICATION",
                name="learning_goal",
            ),
            nullable=True,
        ),
        sa.Column(
            "study_level",
            sa.Enum("HIGH_SCHOOL", "UNDERGRADUATE", "GRADUATE", "DOCTORATE", "PROFESSIONAL", name="study_level"),
            nullable=True,
        ),
        sa.Column(
            "grade", sa.Enum("FRESHMAN", "SOPHOMORE", "JUNIOR", "SENIOR", "GRADUATE", name="grade"), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_profiles_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_profiles")),
        sa.UniqueConstraint("user_id", name=op.f("uq_user_profiles_user_id")),
    )
    op.create_table(
        "departments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("university_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["universities.id"],
            name=op.f("fk_departments_university_id_universities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_departments")),
    )
    op.create_index(op.f("ix_departments_university_id"), "departments", ["university_id"], unique=False)
    op.create_table(
        "user_subject_preferences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subjects.id"],
            name=op.f("fk_user_subject_preferences_subject_id_subjects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_subject_preferences_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_subject_preferences")),
        sa.UniqueConstraint("user_id", "subject_id", name=op.f("uq_user_subject_preferences_user_id_subject_id")),
    )
    op.create_index(
        op.f("ix_user_subject_preferences_subject_id"), "user_subject_preferences", ["subject_id"], unique=False
    )
    op.create_table(
        "courses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("university_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("primary_subject_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "level",
            sa.Enum("INTRODUCTORY", "INTERMEDIATE", "ADVANCED", "EXPERT", name="course_level"),
            server_default=sa.text("'INTRODUCTORY'"),
            nullable=False,
        ),
        sa.Column("credit_hours", sa.Float(), server_default=sa.text("0"), nullable=False),
        sa.Column("is_published", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("is_coming_soon", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_courses_department_id_departments"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["primary_subject_id"],
            ["subjects.id"],
            name=op.f("fk_courses_primary_subject_id_subjects"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["universities.id"],
            name=op.f("fk_courses_university_id_universities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courses")),
        sa.UniqueConstraint("university_id", "code", name=op.f("uq_courses_university_id_code")),
    )
    op.create_index(op.f("ix_courses_department_id"), "courses", ["department_id"], unique=False)
    op.create_index(op.f("ix_courses_primary_subject_id"), "courses", ["primary_subject_id"], unique=False)
    op.create_table(
        "user_university_roles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("university_id", sa.Integer(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "STUDENT",
                "INSTRUCTOR",
                "TA",
                "DEPARTMENT_ADMIN",
                "UNIVERSITY_ADMIN",
                "PLATFORM_ADMIN",
                name="user_role",
            ),
            nullable=False,
        ),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_user_university_roles_department_id_departments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["universities.id"],
            name=op.f("fk_user_university_roles_university_id_universities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_university_roles_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_university_roles")),
        sa.UniqueConstraint(
            "user_id", "university_id", "role", name=op.f("uq_user_university_roles_user_id_university_id_role")
        ),
    )
    op.create_index(
        op.f("ix_user_university_roles_department_id"), "user_university_roles", ["department_id"], unique=False
    )
    op.create_index(
        op.f("ix_user_university_roles_university_id"), "user_university_roles", ["university_id"], unique=False
    )
    op.create_table(
        "course_offerings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("university_id", sa.Integer(), nullable=False),
        sa.Column("term_name", sa.String(length=100), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("enrollment_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("enrollment_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "visibility",
            sa.Enum("PUBLIC", "UNLISTED", "INVITE_ONLY", name="visibility"),
            server_default=sa.text("'PUBLIC'"),
            nullable=False,
        ),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("invite_code", sa.String(length=64), nullable=True),
        sa.CheckConstraint("capacity IS NULL OR capacity >= 0", name=op.f("ck_course_offerings_capacity_non_negative")),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_course_offerings_course_id_courses"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["universities.id"],
            name=op.f("fk_course_offerings_university_id_universities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_offerings")),
        sa.UniqueConstraint("invite_code", name=op.f("uq_course_offerings_invite_code")),
    )
    op.create_index(op.f("ix_course_offerings_course_id"), "course_offerings", ["course_id"], unique=False)
    op.create_index(op.f("ix_course_offerings_university_id"), "course_offerings", ["university_id"], unique=False)
    op.create_table(
        "course_prerequisites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("prerequisite_course_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "course_id <> prerequisite_course_id", name=op.f("ck_course_prerequisites_no_self_prerequisite")
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_course_prerequisites_course_id_courses"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["prerequisite_course_id"],
            ["courses.id"],
            name=op.f("fk_course_prerequisites_prerequisite_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_prerequisites")),
        sa.UniqueConstraint(
            "course_id", "prerequisite_course_id", name=op.f("uq_course_prerequisites_course_id_prerequisite_course_id")
        ),
    )
    op.create_index(
        op.f("ix_course_prerequisites_prerequisite_course_id"),
        "course_prerequisites",
        ["prerequisite_course_id"],
        unique=False,
    )
    op.create_table(
        "course_subjects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_course_subjects_course_id_courses"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_course_subjects_subject_id_subjects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_subjects")),
        sa.UniqueConstraint("course_id", "subject_id", name=op.f("uq_course_subjects_course_id_subject_id")),
    )
    op.create_index(op.f("ix_course_subjects_subject_id"), "course_subjects", ["subject_id"], unique=False)
    op.create_table(
        "modules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("parent_module_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "module_type",
            sa.Enum("COURSE_ROOT", "UNIT", "CHAPTER", "LESSON", "TOPIC", "SECTION", "LAB", "QUIZ", name="module_type"),
            nullable=False,
        ),
        sa.Column("sequence_index", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("depth", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("is_published", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_modules_course_id_courses"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["parent_module_id"], ["modules.id"], name=op.f("fk_modules_parent_module_id_modules"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_modules")),
    )
    op.create_index(op.f("ix_modules_course_id"), "modules", ["course_id"], unique=False)
    op.create_index(
        op.f("ix_modules_parent_module_id_sequence_index"),
        "modules",
        ["parent_module_id", "sequence_index"],
        unique=False,
    )
    op.create_table(
        "content_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("module_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("content_type_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "data_json", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.Column(
            "learning_objectives",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("sequence_index", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("estimated_duration_seconds", sa.Integer(), nullable=True),
        sa.Column("prompt_name", sa.String(length=255), nullable=True),
        sa.Column("prompt_label", sa.String(length=36), server_default=sa.text("'production'"), nullable=False),
        sa.ForeignKeyConstraint(
            ["content_type_id"],
            ["content_types.id"],
            name=op.f("fk_content_items_content_type_id_content_types"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_content_items_course_id_courses"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["module_id"], ["modules.id"], name=op.f("fk_content_items_module_id_modules"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_items")),
    )
    op.create_index(op.f("ix_content_items_content_type_id"), "content_items", ["content_type_id"], unique=False)
    op.create_index(op.f("ix_content_items_course_id"), "content_items", ["course_id"], unique=False)
    op.create_index(
        op.f("ix_content_items_data_json"), "content_items", ["data_json"], unique=False, postgresql_using="gin"
    )
    op.create_index(
        op.f("ix_content_items_module_id_sequence_index"),
        "content_items",
        ["module_id", "sequence_index"],
        unique=False,
    )
    op.create_table(
        "course_enrollments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("course_offering_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("ACTIVE", "COMPLETED", "DROPPED", "PENDING", "WAITLISTED", name="enrollment_status"),
            server_default=sa.text("'ACTIVE'"),
            nullable=False,
        ),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["course_offering_id"],
            ["course_offerings.id"],
            name=op.f("fk_course_enrollments_course_offering_id_course_offerings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_course_enrollments_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_enrollments")),
        sa.UniqueConstraint(
            "user_id", "course_offering_id", name=op.f("uq_course_enrollments_user_id_course_offering_id")
        ),
    )
    op.create_index(
        op.f("ix_course_enrollments_course_offering_id_status_enrolled_at"),
        "course_enrollments",
        ["course_offering_id", "status", "enrolled_at"],
        unique=False,
    )
    op.create_table(
        "user_module_progress",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("course_offering_id", sa.Integer(), nullable=False),
        sa.Column("module_id", sa.Integer(), nullable=False),
        sa.Column("progress_percent", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "progress_percent BETWEEN 0 AND 100", name=op.f("ck_user_module_progress_progress_percent_range")
        ),
        sa.ForeignKeyConstraint(
            ["course_offering_id"],
            ["course_offerings.id"],
            name=op.f("fk_user_module_progress_course_offering_id_course_offerings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["module_id"], ["modules.id"], name=op.f("fk_user_module_progress_module_id_modules"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_module_progress_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_module_progress")),
        sa.UniqueConstraint(
            "user_id",
            "course_offering_id",
            "module_id",
            name=op.f("uq_user_module_progress_user_id_course_offering_id_module_id"),
        ),
    )
    op.create_index(
        op.f("ix_user_module_progress_course_offering_id"), "user_module_progress", ["course_offering_id"], unique=False
    )
    op.create_index(op.f("ix_user_module_progress_module_id"), "user_module_progress", ["module_id"], unique=False)
    op.create_index(
        op.f("ix_user_module_progress_user_id_course_offering_id"),
        "user_module_progress",
        ["user_id", "course_offering_id"],
        unique=False,
    )
    op.create_table(
        "chat_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("content_item_id", sa.Integer(), nullable=True),
        sa.Column(
            "content_context",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("share_enabled", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("share_token", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["content_item_id"],
            ["content_items.id"],
            name=op.f("fk_chat_sessions_content_item_id_content_items"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_chat_sessions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_sessions")),
        sa.UniqueConstraint("share_token", name=op.f("uq_chat_sessions_share_token")),
    )
    op.create_index(
        op.f("ix_chat_sessions_content_context"),
        "chat_sessions",
        ["content_context"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(op.f("ix_chat_sessions_content_item_id"), "chat_sessions", ["content_item_id"], unique=False)
    op.create_index(
        op.f("ix_chat_sessions_user_id_updated_at"), "chat_sessions", ["user_id", "updated_at"], unique=False
    )
    op.create_table(
        "user_content_progress",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("course_offering_id", sa.Integer(), nullable=False),
        sa.Column("content_item_id", sa.Integer(), nullable=False),
        sa.Column("progress_percent", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("attempts_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("first_started_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("last_interacted_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "progress_percent BETWEEN 0 AND 100", name=op.f("ck_user_content_progress_progress_percent_range")
        ),
        sa.ForeignKeyConstraint(
            ["content_item_id"],
            ["content_items.id"],
            name=op.f("fk_user_content_progress_content_item_id_content_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["course_offering_id"],
            ["course_offerings.id"],
            name=op.f("fk_user_content_progress_course_offering_id_course_offerings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_content_progress_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_content_progress")),
        sa.UniqueConstraint(
            "user_id",
            "course_offering_id",
            "content_item_id",
            name=op.f("uq_user_content_progress_user_id_course_offering_id_content_item_id"),
        ),
    )
    op.create_index(
        op.f("ix_user_content_progress_content_item_id"), "user_content_progress", ["content_item_id"], unique=False
    )
    op.create_index(
        op.f("ix_user_content_progress_course_offering_id"),
        "user_content_progress",
        ["course_offering_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_user_content_progress_user_id_course_offering_id"),
        "user_content_progress",
        ["user_id", "course_offering_id"],
        unique=False,
    )
    op.create_table(
        "chat_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.Enum("USER", "ASSISTANT", "SYSTEM", name="message_role"), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column(
            "meta", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["chat_sessions.id"],
            name=op.f("fk_chat_messages_session_id_chat_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_messages")),
    )
    op.create_index(op.f("ix_chat_messages_session_id_id"), "chat_messages", ["session_id", "id"], unique=False)
    op.create_table(
        "chat_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("selected_text", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["chat_messages.id"],
            name=op.f("fk_chat_notes_message_id_chat_messages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["chat_sessions.id"],
            name=op.f("fk_chat_notes_session_id_chat_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_notes")),
    )
    op.create_index(op.f("ix_chat_notes_message_id"), "chat_notes", ["message_id"], unique=False)
    op.create_index(op.f("ix_chat_notes_session_id"), "chat_notes", ["session_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_chat_notes_session_id"), table_name="chat_notes")
    op.drop_index(op.f("ix_chat_notes_message_id"), table_name="chat_notes")
    op.drop_table("chat_notes")
    op.drop_index(op.f("ix_chat_messages_session_id_id"), table_name="chat_messages")
    op.drop_table("chat_messages")
    op.drop_index(op.f("ix_user_content_progress_user_id_course_offering_id"), table_name="user_content_progress")
    op.drop_index(op.f("ix_user_content_progress_course_offering_id"), table_name="user_content_progress")
    op.drop_index(op.f("ix_user_content_progress_content_item_id"), table_name="user_content_progress")
    op.drop_table("user_content_progress")
    op.drop_index(op.f("ix_chat_sessions_user_id_updated_at"), table_name="chat_sessions")
    op.drop_index(op.f("ix_chat_sessions_content_item_id"), table_name="chat_sessions")
    op.drop_index(op.f("ix_chat_sessions_content_context"), table_name="chat_sessions", postgresql_using="gin")
    op.drop_table("chat_sessions")
    op.drop_index(op.f("ix_user_module_progress_user_id_course_offering_id"), table_name="user_module_progress")
    op.drop_index(op.f("ix_user_module_progress_module_id"), table_name="user_module_progress")
    op.drop_index(op.f("ix_user_module_progress_course_offering_id"), table_name="user_module_progress")
    op.drop_table("user_module_progress")
    op.drop_index(op.f("ix_course_enrollments_course_offering_id_status_enrolled_at"), table_name="course_enrollments")
    op.drop_table("course_enrollments")
    op.drop_index(op.f("ix_content_items_module_id_sequence_index"), table_name="content_items")
    op.drop_index(op.f("ix_content_items_data_json"), table_name="content_items", postgresql_using="gin")
    op.drop_index(op.f("ix_content_items_course_id"), table_name="content_items")
    op.drop_index(op.f("ix_content_items_content_type_id"), table_name="content_items")
    op.drop_table("content_items")
    op.drop_index(op.f("ix_modules_parent_module_id_sequence_index"), table_name="modules")
    op.drop_index(op.f("ix_modules_course_id"), table_name="modules")
    op.drop_table("modules")
    op.drop_index(op.f("ix_course_subjects_subject_id"), table_name="course_subjects")
    op.drop_table("course_subjects")
    op.drop_index(op.f("ix_course_prerequisites_prerequisite_course_id"), table_name="course_prerequisites")
    op.drop_table("course_prerequisites")
    op.drop_index(op.f("ix_course_offerings_university_id"), table_name="course_offerings")
    op.drop_index(op.f("ix_course_offerings_course_id"), table_name="course_offerings")
    op.drop_table("course_offerings")
    op.drop_index(op.f("ix_user_university_roles_university_id"), table_name="user_university_roles")
    op.drop_index(op.f("ix_user_university_roles_department_id"), table_name="user_university_roles")
    op.drop_table("user_university_roles")
    op.drop_index(op.f("ix_courses_primary_subject_id"), table_name="courses")
    op.drop_index(op.f("ix_courses_department_id"), table_name="courses")
    op.drop_table("courses")
    op.drop_index(op.f("ix_user_subject_preferences_subject_id"), table_name="user_subject_preferences")
    op.drop_table("user_subject_preferences")
    op.drop_index(op.f("ix_departments_university_id"), table_name="departments")
    op.drop_table("departments")
    op.drop_table("user_profiles")
    op.drop_table("universities")
    op.drop_index(op.f("ix_subjects_parent_subject_id"), table_name="subjects")
    op.drop_index(op.f("ix_subjects_domain_id"), table_name="subjects")
    op.drop_table("subjects")
    op.drop_index(op.f("ix_refresh_tokens_user_id"), table_name="refresh_tokens")
    op.drop_index(op.f("ix_refresh_tokens_family_id"), table_name="refresh_tokens")
    op.drop_table("refresh_tokens")
    op.drop_index("ix_prompt_deps_parent", table_name="prompt_dependencies")
    op.drop_index("ix_prompt_deps_child", table_name="prompt_dependencies")
    op.drop_table("prompt_dependencies")
    op.drop_index(op.f("ix_feature_requests_user_id"), table_name="feature_requests")
    op.drop_index(op.f("ix_feature_requests_status_created_at"), table_name="feature_requests")
    op.drop_table("feature_requests")
    op.drop_index(op.f("ix_api_keys_created_by"), table_name="api_keys")
    op.drop_table("api_keys")
    op.drop_index(op.f("ix_users_email"), table_name="users")
    op.drop_table("users")
    op.drop_table("system_settings")
    op.drop_index("ix_prompts_tags", table_name="prompts", postgresql_using="gin")
    op.drop_index("ix_prompts_name", table_name="prompts")
    op.drop_index("ix_prompts_labels", table_name="prompts", postgresql_using="gin")
    op.drop_index("ix_prompts_created_at", table_name="prompts")
    op.drop_table("prompts")
    op.drop_index(op.f("ix_prompt_label_events_prompt_name_label_at"), table_name="prompt_label_events")
    op.drop_table("prompt_label_events")
    op.drop_table("domains")
    op.drop_table("countries")
    op.drop_table("content_types")
    # Enum types outlive their tables unless dropped explicitly.
    sa.Enum(name="feature_request_status").drop(op.get_bind(), checkfirst=True)
    sa.Enum(name="learning_goal").drop(op.get_bind(), checkfirst=True)
    sa.Enum(name="study_level").drop(op.get_bind(), checkfirst=True)
    sa.Enum(name="grade").drop(op.get_bind(), checkfirst=True)
    sa.Enum(name="course_level").drop(op.get_bind(), checkfirst=True)
    sa.Enum(name="user_role").drop(op.get_bind(), checkfirst=True)
    sa.Enum(name="visibility").drop(op.get_bind(), checkfirst=True)
    sa.Enum(name="module_type").drop(op.get_bind(), checkfirst=True)
    sa.Enum(name="enrollment_status").drop(op.get_bind(), checkfirst=True)
    sa.Enum(name="message_role").drop(op.get_bind(), checkfirst=True)
