"""The schema as the reference document (docs: database-schema.md) and the spec's additions describe it.

Written by hand from those documents, never generated from the models: the reference test compares the
migrated database with this, so a model or a migration that drifts from the reference fails a test.

Types are PostgreSQL's `format_type()` spelling ("character varying(255)", "timestamp with time zone",
"text[]"); a native enum column is "enum:<type name>". Defaults are regular expressions matched in full against
`pg_get_expr()` of the column default; `SERIAL` matches a sequence default or an identity column.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# --- types -----------------------------------------------------------------------------------------------------

INT = "integer"
BIGINT = "bigint"
TEXT = "text"
BOOL = "boolean"
DATE = "date"
TSTZ = "timestamp with time zone"
FLOAT = "double precision"
JSONB = "jsonb"
JSON = "json"
TEXT_ARRAY = "text[]"


def varchar(length: int) -> str:
    return f"character varying({length})"


def enum(type_name: str) -> str:
    return f"enum:{type_name}"


# --- defaults (regular expressions) ----------------------------------------------------------------------------

SERIAL = r"nextval\('[a-z_]+_seq'::regclass\)|<identity>"
NOW = r"now\(\)|CURRENT_TIMESTAMP"
TRUE = "true"
FALSE = "false"
ZERO = r"0|'0'::(integer|double precision)"
EMPTY_JSONB_OBJECT = r"'\{\}'::jsonb"
EMPTY_JSONB_ARRAY = r"'\[\]'::jsonb"
EMPTY_JSON_OBJECT = r"'\{\}'::json"
EMPTY_TEXT_ARRAY = r"'\{\}'::text\[\]"


def string_default(value: str) -> str:
    return rf"'{value}'(::character varying)?(::text)?"


def enum_default(value: str, type_name: str) -> str:
    return rf"'{value}'::{type_name}"


# --- shapes ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Col:
    type: str
    nullable: bool = False
    default: str | None = None  # None: the column has no default


@dataclass(frozen=True)
class Idx:
    """An index that does not back a primary key or unique constraint."""

    columns: tuple[str, ...]
    method: str = "btree"
    unique: bool = False
    name: str | None = None  # None: the naming convention picks it; set when the reference fixes it


@dataclass(frozen=True)
class Table:
    columns: dict[str, Col]
    # Every unique index or constraint, as its column tuple (primary keys excluded).
    unique: frozenset[tuple[str, ...]] = frozenset()
    # column -> ("table.column", ON DELETE rule)
    fks: dict[str, tuple[str, str]] = field(default_factory=dict)
    indexes: tuple[Idx, ...] = ()
    # constraint name -> definition with parentheses removed and whitespace collapsed
    checks: dict[str, str] = field(default_factory=dict)
    primary_key: tuple[str, ...] = ("id",)


def _id() -> Col:
    return Col(INT, default=SERIAL)


def _big_id() -> Col:
    return Col(BIGINT, default=SERIAL)


def _fk(nullable: bool = False) -> Col:
    return Col(INT, nullable=nullable)


def _created() -> Col:
    return Col(TSTZ, default=NOW)


def _nullable_ts() -> Col:
    return Col(TSTZ, nullable=True)


CASCADE = "CASCADE"
SET_NULL = "SET NULL"
RESTRICT = "RESTRICT"

ENUMS: dict[str, list[str]] = {
    "user_role": ["STUDENT", "INSTRUCTOR", "TA", "DEPARTMENT_ADMIN", "UNIVERSITY_ADMIN", "PLATFORM_ADMIN"],
    "learning_goal": [
        "CAREER_ADVANCEMENT",
        "SKILL_DEVELOPMENT",
        "ACADEMIC_REQUIREMENT",
        "PERSONAL_INTEREST",
        "CERTIFICATION",
    ],
    "study_level": ["HIGH_SCHOOL", "UNDERGRADUATE", "GRADUATE", "DOCTORATE", "PROFESSIONAL"],
    "grade": ["FRESHMAN", "SOPHOMORE", "JUNIOR", "SENIOR", "GRADUATE"],
    "course_level": ["INTRODUCTORY", "INTERMEDIATE", "ADVANCED", "EXPERT"],
    "visibility": ["PUBLIC", "UNLISTED", "INVITE_ONLY"],
    "enrollment_status": ["ACTIVE", "COMPLETED", "DROPPED", "PENDING", "WAITLISTED"],
    "module_type": ["COURSE_ROOT", "UNIT", "CHAPTER", "LESSON", "TOPIC", "SECTION", "LAB", "QUIZ"],
    "message_role": ["USER", "ASSISTANT", "SYSTEM"],
    "feature_request_status": ["OPEN", "PLANNED", "IN_PROGRESS", "DONE", "DECLINED"],
    # Migration 0003 (invitations).
    "invitation_kind": ["ROLE", "ENROLLMENT"],
    "invitation_status": ["PENDING", "ACCEPTED", "DECLINED", "REVOKED"],
}

TABLES: dict[str, Table] = {
    # --- users -------------------------------------------------------------------------------------------------
    "users": Table(
        columns={
            "id": _id(),
            "email": Col(varchar(255)),
            "password_hash": Col(varchar(255)),
            "full_name": Col(varchar(255)),
            "locale": Col(varchar(10), default=string_default("en")),
            "time_zone": Col(varchar(50), default=string_default("UTC")),
            "is_active": Col(BOOL, default=TRUE),
            "email_verified_at": _nullable_ts(),  # migration 0006
            "erased_at": _nullable_ts(),  # migration 0008: the account was erased (a tombstone, docs/identity.md)
            "current_streak_days": Col(INT, default=ZERO),
            "last_activity_date": Col(DATE, nullable=True),
            "created_at": _created(),
            "updated_at": _created(),
        },
        unique=frozenset({("email",)}),
        indexes=(Idx(("email",), unique=True, name="ix_users_email"),),
    ),
    "user_profiles": Table(
        columns={
            "id": _id(),
            "user_id": _fk(),
            "date_of_birth": Col(DATE, nullable=True),
            "learning_goal": Col(enum("learning_goal"), nullable=True),
            "study_level": Col(enum("study_level"), nullable=True),
            "grade": Col(enum("grade"), nullable=True),
        },
        unique=frozenset({("user_id",)}),
        fks={"user_id": ("users.id", CASCADE)},
    ),
    "user_subject_preferences": Table(
        columns={"id": _id(), "user_id": _fk(), "subject_id": _fk()},
        unique=frozenset({("user_id", "subject_id")}),
        fks={"user_id": ("users.id", CASCADE), "subject_id": ("subjects.id", CASCADE)},
        indexes=(Idx(("subject_id",)),),
    ),
    # --- tenancy -----------------------------------------------------------------------------------------------
    "user_university_roles": Table(
        columns={
            "id": _id(),
            "user_id": _fk(),
            "university_id": _fk(),
            "role": Col(enum("user_role")),
            "department_id": _fk(nullable=True),
        },
        unique=frozenset({("user_id", "university_id", "role")}),
        fks={
            "user_id": ("users.id", CASCADE),
            "university_id": ("universities.id", CASCADE),
            "department_id": ("departments.id", CASCADE),
        },
        indexes=(Idx(("university_id",)), Idx(("department_id",))),
    ),
    "countries": Table(
        columns={"id": _id(), "code": Col(varchar(2)), "name": Col(varchar(100))},
        unique=frozenset({("code",)}),
    ),
    "universities": Table(
        columns={
            "id": _id(),
            "name": Col(varchar(255)),
            "short_code": Col(varchar(20)),
            "country_id": _fk(),
            "time_zone": Col(varchar(50), default=string_default("UTC")),
            "website_url": Col(varchar(255), nullable=True),
            "is_active": Col(BOOL, default=TRUE),
        },
        unique=frozenset({("country_id", "short_code")}),
        fks={"country_id": ("countries.id", RESTRICT)},
    ),
    "departments": Table(
        columns={
            "id": _id(),
            "university_id": _fk(),
            "name": Col(varchar(255)),
            "code": Col(varchar(20), nullable=True),
        },
        fks={"university_id": ("universities.id", CASCADE)},
        indexes=(Idx(("university_id",)),),
    ),
    # --- taxonomy ----------------------------------------------------------------------------------------------
    "domains": Table(
        columns={"id": _id(), "name": Col(varchar(100))},
        unique=frozenset({("name",)}),
    ),
    "subjects": Table(
        columns={
            "id": _id(),
            "domain_id": _fk(),
            "parent_subject_id": _fk(nullable=True),
            "name": Col(varchar(100)),
        },
        fks={"domain_id": ("domains.id", CASCADE), "parent_subject_id": ("subjects.id", CASCADE)},
        indexes=(Idx(("domain_id",)), Idx(("parent_subject_id",))),
    ),
    "content_types": Table(
        columns={
            "id": _id(),
            "name": Col(varchar(50)),
            "label": Col(varchar(100)),
            "description": Col(TEXT, nullable=True),
            "is_active": Col(BOOL, default=TRUE),
            "gradable": Col(BOOL, default=FALSE),  # migration 0004 (assessments)
        },
        unique=frozenset({("name",)}),
    ),
    # --- courses -----------------------------------------------------------------------------------------------
    "courses": Table(
        columns={
            "id": _id(),
            "university_id": _fk(),
            "department_id": _fk(nullable=True),
            "primary_subject_id": _fk(),
            "title": Col(varchar(255)),
            "code": Col(varchar(20)),
            "description": Col(TEXT, nullable=True),
            "level": Col(enum("course_level"), default=enum_default("INTRODUCTORY", "course_level")),
            "credit_hours": Col(FLOAT, default=ZERO),
            "is_published": Col(BOOL, default=FALSE),
            "is_coming_soon": Col(BOOL, default=FALSE),
            "content_version": Col(BIGINT, default=ZERO),  # migration 0005, raised by triggers
            "text_search_config": Col(varchar(63), default=string_default("simple")),  # migration 0009
        },
        unique=frozenset({("university_id", "code")}),
        fks={
            "university_id": ("universities.id", CASCADE),
            "department_id": ("departments.id", SET_NULL),
            "primary_subject_id": ("subjects.id", RESTRICT),
        },
        indexes=(Idx(("department_id",)), Idx(("primary_subject_id",))),
    ),
    "course_subjects": Table(
        columns={"id": _id(), "course_id": _fk(), "subject_id": _fk()},
        unique=frozenset({("course_id", "subject_id")}),
        fks={"course_id": ("courses.id", CASCADE), "subject_id": ("subjects.id", CASCADE)},
        indexes=(Idx(("subject_id",)),),
    ),
    "course_prerequisites": Table(
        columns={"id": _id(), "course_id": _fk(), "prerequisite_course_id": _fk()},
        unique=frozenset({("course_id", "prerequisite_course_id")}),
        fks={"course_id": ("courses.id", CASCADE), "prerequisite_course_id": ("courses.id", CASCADE)},
        indexes=(Idx(("prerequisite_course_id",)),),
        checks={"ck_course_prerequisites_no_self_prerequisite": "course_id <> prerequisite_course_id"},
    ),
    "course_offerings": Table(
        columns={
            "id": _id(),
            "course_id": _fk(),
            "university_id": _fk(),
            "term_name": Col(varchar(100)),
            "starts_at": _nullable_ts(),
            "ends_at": _nullable_ts(),
            "enrollment_start": _nullable_ts(),
            "enrollment_end": _nullable_ts(),
            "visibility": Col(enum("visibility"), default=enum_default("PUBLIC", "visibility")),
            "capacity": Col(INT, nullable=True),
            "invite_code": Col(varchar(64), nullable=True),
        },
        unique=frozenset({("invite_code",)}),
        fks={"course_id": ("courses.id", CASCADE), "university_id": ("universities.id", CASCADE)},
        indexes=(Idx(("course_id",)), Idx(("university_id",))),
        checks={"ck_course_offerings_capacity_non_negative": "capacity IS NULL OR capacity >= 0"},
    ),
    # --- enrolments --------------------------------------------------------------------------------------------
    "course_enrollments": Table(
        columns={
            "id": _id(),
            "user_id": _fk(),
            "course_offering_id": _fk(),
            "status": Col(enum("enrollment_status"), default=enum_default("ACTIVE", "enrollment_status")),
            "enrolled_at": _created(),
            "completed_at": _nullable_ts(),
        },
        unique=frozenset({("user_id", "course_offering_id")}),
        fks={"user_id": ("users.id", CASCADE), "course_offering_id": ("course_offerings.id", CASCADE)},
        indexes=(Idx(("course_offering_id", "status", "enrolled_at")),),
    ),
    # --- content -----------------------------------------------------------------------------------------------
    "modules": Table(
        columns={
            "id": _id(),
            "course_id": _fk(),
            "parent_module_id": _fk(nullable=True),
            "title": Col(varchar(255)),
            "description": Col(TEXT, nullable=True),
            "module_type": Col(enum("module_type")),
            "sequence_index": Col(INT, default=ZERO),
            "depth": Col(INT, default=ZERO),
            "is_published": Col(BOOL, default=FALSE),
        },
        fks={"course_id": ("courses.id", CASCADE), "parent_module_id": ("modules.id", CASCADE)},
        indexes=(Idx(("course_id",)), Idx(("parent_module_id", "sequence_index"))),
    ),
    "content_items": Table(
        columns={
            "id": _id(),
            "module_id": _fk(),
            "course_id": _fk(),
            "content_type_id": _fk(),
            "title": Col(varchar(255)),
            "description": Col(TEXT, nullable=True),
            "data_json": Col(JSONB, default=EMPTY_JSONB_OBJECT),
            "learning_objectives": Col(JSONB, default=EMPTY_JSONB_ARRAY),
            "sequence_index": Col(INT, default=ZERO),
            "estimated_duration_seconds": Col(INT, nullable=True),
            "prompt_name": Col(varchar(255), nullable=True),
            "prompt_label": Col(varchar(36), default=string_default("production")),
        },
        fks={
            "module_id": ("modules.id", CASCADE),
            "course_id": ("courses.id", CASCADE),
            "content_type_id": ("content_types.id", RESTRICT),
        },
        indexes=(
            Idx(("module_id", "sequence_index")),
            Idx(("course_id",)),
            Idx(("content_type_id",)),
            Idx(("data_json",), method="gin"),
        ),
    ),
    # --- progress ----------------------------------------------------------------------------------------------
    "user_module_progress": Table(
        columns={
            "id": _id(),
            "user_id": _fk(),
            "course_offering_id": _fk(),
            "module_id": _fk(),
            "progress_percent": Col(INT, default=ZERO),
            "started_at": _created(),
            "completed_at": _nullable_ts(),
        },
        unique=frozenset({("user_id", "course_offering_id", "module_id")}),
        fks={
            "user_id": ("users.id", CASCADE),
            "course_offering_id": ("course_offerings.id", CASCADE),
            "module_id": ("modules.id", CASCADE),
        },
        indexes=(Idx(("user_id", "course_offering_id")), Idx(("course_offering_id",)), Idx(("module_id",))),
        checks={"ck_user_module_progress_progress_percent_range": "progress_percent >= 0 AND progress_percent <= 100"},
    ),
    "user_content_progress": Table(
        columns={
            "id": _id(),
            "user_id": _fk(),
            "course_offering_id": _fk(),
            "content_item_id": _fk(),
            "progress_percent": Col(INT, default=ZERO),
            "attempts_count": Col(INT, default=ZERO),
            "first_started_at": _created(),
            "last_interacted_at": _created(),
            "completed_at": _nullable_ts(),
        },
        unique=frozenset({("user_id", "course_offering_id", "content_item_id")}),
        fks={
            "user_id": ("users.id", CASCADE),
            "course_offering_id": ("course_offerings.id", CASCADE),
            "content_item_id": ("content_items.id", CASCADE),
        },
        indexes=(
            Idx(("user_id", "course_offering_id")),
            Idx(("course_offering_id",)),
            Idx(("content_item_id",)),
        ),
        checks={"ck_user_content_progress_progress_percent_range": "progress_percent >= 0 AND progress_percent <= 100"},
    ),
    # --- tutor -------------------------------------------------------------------------------------------------
    "chat_sessions": Table(
        columns={
            "id": _id(),
            "user_id": _fk(),
            "content_item_id": _fk(nullable=True),
            "content_context": Col(JSONB, default=EMPTY_JSONB_OBJECT),
            "share_enabled": Col(BOOL, default=FALSE),
            "share_token": Col(varchar(255), nullable=True),
            "active_leaf_message_id": _fk(nullable=True),  # issue 21: the end of the active branch
            "created_at": _created(),
            "updated_at": _created(),
        },
        unique=frozenset({("share_token",)}),
        fks={
            "user_id": ("users.id", CASCADE),
            "content_item_id": ("content_items.id", SET_NULL),
            "active_leaf_message_id": ("chat_messages.id", SET_NULL),
        },
        indexes=(
            Idx(("user_id", "updated_at")),
            Idx(("content_item_id",)),
            Idx(("content_context",), method="gin"),
            Idx(("active_leaf_message_id",)),
        ),
    ),
    "chat_messages": Table(
        columns={
            "id": _id(),
            "session_id": _fk(),
            "parent_message_id": _fk(nullable=True),  # issue 21: branches (edit, regenerate)
            "role": Col(enum("message_role")),
            "content": Col(TEXT),
            "meta": Col(JSONB, default=EMPTY_JSONB_OBJECT),
            "created_at": _created(),
        },
        fks={"session_id": ("chat_sessions.id", CASCADE), "parent_message_id": ("chat_messages.id", CASCADE)},
        indexes=(Idx(("session_id", "id")), Idx(("parent_message_id", "session_id"))),
        checks={"ck_chat_messages_parent_before_child": "parent_message_id < id"},
    ),
    "chat_notes": Table(
        columns={
            "id": _id(),
            "session_id": _fk(),
            "message_id": _fk(nullable=True),
            "content": Col(TEXT),
            "selected_text": Col(TEXT, nullable=True),
            "created_at": _created(),
        },
        fks={"session_id": ("chat_sessions.id", CASCADE), "message_id": ("chat_messages.id", SET_NULL)},
        indexes=(Idx(("session_id",)), Idx(("message_id",))),
    ),
    # --- prompts -----------------------------------------------------------------------------------------------
    "prompts": Table(
        columns={
            "id": _big_id(),
            "name": Col(varchar(255)),
            "version": Col(INT),
            "type": Col(varchar(20), default=string_default("text")),
            "prompt": Col(TEXT, nullable=True),
            "config": Col(JSON, default=EMPTY_JSON_OBJECT),
            "labels": Col(TEXT_ARRAY, default=EMPTY_TEXT_ARRAY),
            "tags": Col(TEXT_ARRAY, default=EMPTY_TEXT_ARRAY),
            "commit_message": Col(varchar(500), nullable=True),
            "created_by": Col(varchar(255)),
            "created_at": _created(),
            "updated_at": _created(),
        },
        unique=frozenset({("name", "version")}),
        indexes=(
            Idx(("name",), name="ix_prompts_name"),
            Idx(("labels",), method="gin", name="ix_prompts_labels"),
            Idx(("tags",), method="gin", name="ix_prompts_tags"),
            Idx(("created_at",), name="ix_prompts_created_at"),
        ),
    ),
    "prompt_dependencies": Table(
        columns={
            "id": _big_id(),
            "parent_id": Col(BIGINT),
            "child_name": Col(varchar(255)),
            "child_version": Col(INT, nullable=True),
            "child_label": Col(varchar(36), nullable=True),
            "created_at": _created(),
            "updated_at": _created(),
        },
        fks={"parent_id": ("prompts.id", CASCADE)},
        indexes=(
            Idx(("parent_id",), name="ix_prompt_deps_parent"),
            Idx(("child_name",), name="ix_prompt_deps_child"),
        ),
        checks={"ck_prompt_dependencies_child_version_xor_label": "child_version IS NULL <> child_label IS NULL"},
    ),
    "prompt_label_events": Table(
        columns={
            "id": _big_id(),
            "prompt_name": Col(varchar(255)),
            "label": Col(varchar(36)),
            "from_version": Col(INT, nullable=True),
            "to_version": Col(INT, nullable=True),
            "actor": Col(varchar(255)),
            "at": _created(),
        },
        indexes=(Idx(("prompt_name", "label", "at")),),
    ),
    # --- system, auth, api keys, feedback ----------------------------------------------------------------------
    "system_settings": Table(
        columns={
            "id": _id(),
            "setting_key": Col(varchar(100)),
            "setting_value": Col(TEXT, nullable=True),
            "is_encrypted": Col(BOOL, default=FALSE),
            "description": Col(TEXT, nullable=True),
            "updated_at": _created(),
        },
        unique=frozenset({("setting_key",)}),
    ),
    "refresh_tokens": Table(
        columns={
            "id": _id(),
            "jti": Col(varchar(64)),
            "user_id": _fk(),
            "family_id": Col(varchar(64)),
            "expires_at": Col(TSTZ),
            "revoked_at": _nullable_ts(),
            "replaced_by": Col(varchar(64), nullable=True),
            "created_at": _created(),
        },
        unique=frozenset({("jti",)}),
        fks={"user_id": ("users.id", CASCADE)},
        indexes=(Idx(("user_id",)), Idx(("family_id",))),
    ),
    "api_keys": Table(
        columns={
            "id": _id(),
            "public_key": Col(varchar(64)),
            "secret_hash": Col(varchar(128)),
            "name": Col(varchar(255)),
            "created_by": _fk(nullable=True),
            "created_at": _created(),
            "last_used_at": _nullable_ts(),
            "revoked_at": _nullable_ts(),
            # Migration 0002.
            "scopes": Col("character varying(32)[]", default=r"'\{prompts:read\}'::character varying\[\]"),
        },
        unique=frozenset({("public_key",)}),
        fks={"created_by": ("users.id", SET_NULL)},
        indexes=(Idx(("created_by",)),),
    ),
    "feature_requests": Table(
        columns={
            "id": _id(),
            "user_id": _fk(),
            "title": Col(varchar(255)),
            "description": Col(TEXT),
            "status": Col(enum("feature_request_status"), default=enum_default("OPEN", "feature_request_status")),
            "created_at": _created(),
            "updated_at": _created(),
        },
        fks={"user_id": ("users.id", CASCADE)},
        indexes=(Idx(("user_id",)), Idx(("status", "created_at"))),
    ),
    # --- migration 0003: suspensions, invitations, the audit log (SPEC §7, security) -----------------------------
    "member_suspensions": Table(
        columns={
            "id": _id(),
            "user_id": _fk(),
            "university_id": _fk(),
            "suspended_by_id": _fk(nullable=True),
            "reason": Col(varchar(500), nullable=True),
            "created_at": _created(),
        },
        unique=frozenset({("user_id", "university_id")}),
        fks={
            "user_id": ("users.id", CASCADE),
            "university_id": ("universities.id", CASCADE),
            "suspended_by_id": ("users.id", SET_NULL),
        },
        indexes=(Idx(("university_id",)), Idx(("suspended_by_id",))),
    ),
    "invitations": Table(
        columns={
            "id": _id(),
            "university_id": _fk(),
            "email": Col(varchar(255)),
            "kind": Col(enum("invitation_kind")),
            "role": Col(enum("user_role"), nullable=True),
            "department_id": _fk(nullable=True),
            "course_offering_id": _fk(nullable=True),
            "enrollment_status": Col(enum("enrollment_status"), nullable=True),
            "status": Col(enum("invitation_status"), default=enum_default("PENDING", "invitation_status")),
            "token_hash": Col(varchar(64)),
            "invited_by_id": _fk(nullable=True),
            "closed_by_id": _fk(nullable=True),
            "created_at": _created(),
            "expires_at": Col(TSTZ),
            "closed_at": _nullable_ts(),
        },
        unique=frozenset({("token_hash",)}),
        fks={
            "university_id": ("universities.id", CASCADE),
            "department_id": ("departments.id", CASCADE),
            "course_offering_id": ("course_offerings.id", CASCADE),
            "invited_by_id": ("users.id", SET_NULL),
            "closed_by_id": ("users.id", SET_NULL),
        },
        indexes=(
            Idx(("university_id", "created_at")),
            Idx(("email", "status")),
            Idx(("department_id",)),
            Idx(("course_offering_id",)),
            Idx(("invited_by_id",)),
            Idx(("closed_by_id",)),
        ),
        checks={
            "ck_invitations_target_matches_kind": (
                "kind = 'ROLE'::invitation_kind AND role IS NOT NULL AND course_offering_id IS NULL"
                " AND enrollment_status IS NULL OR kind = 'ENROLLMENT'::invitation_kind"
                " AND course_offering_id IS NOT NULL AND role IS NULL AND department_id IS NULL"
                " AND enrollment_status IS NOT NULL"
            )
        },
    ),
    # Plain integer ids, no foreign keys: nothing deleted elsewhere may erase or rewrite the trail.
    "audit_events": Table(
        columns={
            "id": _big_id(),
            "university_id": Col(INT, nullable=True),
            "action": Col(varchar(64)),
            "actor_id": Col(INT, nullable=True),
            "actor_email": Col(varchar(255), nullable=True),
            "target_user_id": Col(INT, nullable=True),
            "target_email": Col(varchar(255), nullable=True),
            "resource_type": Col(varchar(32), nullable=True),
            "resource_id": Col(BIGINT, nullable=True),
            "details": Col(JSONB, default=EMPTY_JSONB_OBJECT),
            "created_at": _created(),
        },
        indexes=(Idx(("university_id", "created_at")),),
    ),
    # --- migration 0004: graded quiz attempts (assessments) ------------------------------------------------------
    "quiz_attempts": Table(
        columns={
            "id": _id(),
            "user_id": _fk(),
            "course_offering_id": _fk(),
            "content_item_id": _fk(),
            "attempt_number": Col(INT),
            "quiz_version": Col(varchar(64)),
            "answers": Col(JSONB),
            "results": Col(JSONB),
            "points": Col(FLOAT),
            "max_points": Col(FLOAT),
            "score_percent": Col(FLOAT),
            "passed": Col(BOOL),
            "submitted_at": _created(),
        },
        unique=frozenset({("user_id", "course_offering_id", "content_item_id", "attempt_number")}),
        fks={
            "user_id": ("users.id", CASCADE),
            "course_offering_id": ("course_offerings.id", CASCADE),
            "content_item_id": ("content_items.id", CASCADE),
        },
        indexes=(Idx(("course_offering_id", "content_item_id")), Idx(("content_item_id",))),
        checks={
            "ck_quiz_attempts_attempt_number_positive": "attempt_number >= 1",
            "ck_quiz_attempts_score_percent_range": (
                "score_percent >= 0 ::double precision AND score_percent <= 100 ::double precision"
            ),
        },
    ),
    # --- migration 0006: the mail outbox, job queue runs, account tokens (identity) --------------------------------
    "job_queue_runs": Table(
        columns={
            "queue": Col(varchar(64)),
            "last_drained_at": Col(TSTZ),
            "last_processed": Col(INT, default=ZERO),
            "drains": Col(INT, default=ZERO),
        },
        primary_key=("queue",),
    ),
    "mail_outbox": Table(
        columns={
            "id": _id(),
            "idempotency_key": Col(varchar(128)),
            "recipient": Col(varchar(255)),
            "subject": Col(varchar(300)),
            "body_text": Col(TEXT),
            "body_html": Col(TEXT),
            "template": Col(varchar(64)),
            "locale": Col(varchar(10), default=string_default("en")),
            "status": Col(varchar(16), default=string_default("PENDING")),
            "attempts": Col(INT, default=ZERO),
            "next_attempt_at": _created(),
            "lease_until": _nullable_ts(),
            "last_error": Col(varchar(1000), nullable=True),
            "sent_at": _nullable_ts(),
            "created_at": _created(),
        },
        unique=frozenset({("idempotency_key",)}),
        indexes=(Idx(("status", "next_attempt_at")), Idx(("created_at",))),
        checks={
            "ck_mail_outbox_status_known": (
                "status ::text = ANY ARRAY['PENDING'::character varying, 'SENDING'::character varying,"
                " 'SENT'::character varying, 'FAILED'::character varying, 'LOGGED'::character varying] ::text[]"
            )
        },
    ),
    "account_tokens": Table(
        columns={
            "id": _id(),
            "user_id": _fk(),
            "purpose": Col(varchar(16)),
            "token_hash": Col(varchar(64)),
            "email": Col(varchar(255)),
            "fingerprint": Col(varchar(64)),
            "expires_at": Col(TSTZ),
            "used_at": _nullable_ts(),
            "created_at": _created(),
        },
        unique=frozenset({("token_hash",)}),
        fks={"user_id": ("users.id", CASCADE)},
        indexes=(Idx(("user_id",)),),
    ),
    # Migration 0007: single sign-on per university and who may join (docs/identity.md).
    "university_sso_providers": Table(
        columns={
            "id": _id(),
            "university_id": _fk(),
            "issuer": Col(varchar(500)),
            "client_id": Col(varchar(255)),
            "client_secret_encrypted": Col(TEXT),
            "scopes": Col(TEXT_ARRAY, default=EMPTY_TEXT_ARRAY),
            "claim_email": Col(varchar(100), default=string_default("email")),
            "claim_name": Col(varchar(100), default=string_default("name")),
            "claim_role": Col(varchar(100), nullable=True),
            "claim_department": Col(varchar(100), nullable=True),
            "enabled": Col(BOOL, default=TRUE),
            "authorization_endpoint": Col(varchar(1000)),
            "token_endpoint": Col(varchar(1000)),
            "jwks_uri": Col(varchar(1000)),
            "created_at": _created(),
            "updated_at": _created(),
        },
        unique=frozenset({("university_id",)}),
        fks={"university_id": ("universities.id", CASCADE)},
    ),
    "sso_identities": Table(
        columns={
            "id": _id(),
            "user_id": _fk(),
            "issuer": Col(varchar(500)),
            "subject": Col(varchar(255)),
            "role_claim": Col(varchar(255), nullable=True),
            "department_claim": Col(varchar(255), nullable=True),
            "created_at": _created(),
            "last_login_at": _nullable_ts(),
        },
        unique=frozenset({("issuer", "subject")}),
        fks={"user_id": ("users.id", CASCADE)},
        indexes=(Idx(("user_id",)),),
    ),
    "sso_login_states": Table(
        columns={
            "id": _id(),
            "state_hash": Col(varchar(64)),
            "university_id": _fk(),
            "nonce": Col(varchar(128)),
            "code_verifier": Col(varchar(128)),
            "expires_at": Col(TSTZ),
            "created_at": _created(),
        },
        unique=frozenset({("state_hash",)}),
        fks={"university_id": ("universities.id", CASCADE)},
        indexes=(Idx(("university_id",)),),
    ),
    "sso_exchange_codes": Table(
        columns={
            "id": _id(),
            "code_hash": Col(varchar(64)),
            "user_id": _fk(),
            "expires_at": Col(TSTZ),
            "created_at": _created(),
        },
        unique=frozenset({("code_hash",)}),
        fks={"user_id": ("users.id", CASCADE)},
        indexes=(Idx(("user_id",)),),
    ),
    "university_access_policies": Table(
        columns={
            "university_id": Col(INT),
            "sso_required": Col(BOOL, default=FALSE),
            "allowed_email_domains": Col(TEXT_ARRAY, default=EMPTY_TEXT_ARRAY),
            "require_verified_email": Col(BOOL, default=FALSE),
            "updated_at": _created(),
            "chat_retention_days": Col(INT, nullable=True),  # migration 0008
        },
        fks={"university_id": ("universities.id", CASCADE)},
        primary_key=("university_id",),
    ),
    # Migration 0012: LTI 1.3 tool (docs/lti.md).
    "lti_tool_keys": Table(
        columns={
            "id": _id(),
            "kid": Col(varchar(64)),
            "private_key_encrypted": Col(TEXT),
            "public_jwk": Col(JSONB),
            "created_at": _created(),
            "retired_at": _nullable_ts(),
        },
        unique=frozenset({("kid",)}),
    ),
    "lti_platforms": Table(
        columns={
            "id": _id(),
            "university_id": _fk(),
            "issuer": Col(varchar(500)),
            "client_id": Col(varchar(255)),
            "deployment_ids": Col(TEXT_ARRAY, default=EMPTY_TEXT_ARRAY),
            "auth_login_url": Col(varchar(1000)),
            "auth_token_url": Col(varchar(1000)),
            "jwks_url": Col(varchar(1000)),
            "enabled": Col(BOOL, default=TRUE),
            "grant_admin_role": Col(BOOL, default=FALSE),
            "created_at": _created(),
            "updated_at": _created(),
        },
        unique=frozenset({("issuer", "client_id")}),
        fks={"university_id": ("universities.id", CASCADE)},
        indexes=(Idx(("university_id",)),),
    ),
    "lti_login_states": Table(
        columns={
            "id": _id(),
            "state_hash": Col(varchar(64)),
            "platform_id": _fk(),
            "nonce": Col(varchar(128)),
            "expires_at": Col(TSTZ),
            "created_at": _created(),
        },
        unique=frozenset({("state_hash",)}),
        fks={"platform_id": ("lti_platforms.id", CASCADE)},
        indexes=(Idx(("platform_id",)),),
    ),
    "lti_identities": Table(
        columns={
            "id": _id(),
            "user_id": _fk(),
            "platform_id": _fk(),
            "issuer": Col(varchar(500)),
            "subject": Col(varchar(255)),
            "created_at": _created(),
            "last_launch_at": _nullable_ts(),
        },
        unique=frozenset({("platform_id", "subject")}),
        fks={"user_id": ("users.id", CASCADE), "platform_id": ("lti_platforms.id", CASCADE)},
        indexes=(Idx(("user_id",)), Idx(("platform_id",))),
    ),
    "lti_contexts": Table(
        columns={
            "id": _id(),
            "platform_id": _fk(),
            "context_id": Col(varchar(255)),
            "course_offering_id": _fk(),
            "title": Col(varchar(255), nullable=True),
            "memberships_url": Col(varchar(1000), nullable=True),
            "roster_synced_at": _nullable_ts(),
            "created_at": _created(),
            "updated_at": _created(),
        },
        unique=frozenset({("platform_id", "context_id")}),
        fks={"platform_id": ("lti_platforms.id", CASCADE), "course_offering_id": ("course_offerings.id", CASCADE)},
        indexes=(Idx(("course_offering_id",)),),
    ),
    "lti_launch_codes": Table(
        columns={
            "id": _id(),
            "code_hash": Col(varchar(64)),
            "user_id": _fk(),
            "frame_origins": Col(TEXT_ARRAY, default=EMPTY_TEXT_ARRAY),
            "expires_at": Col(TSTZ),
            "created_at": _created(),
        },
        unique=frozenset({("code_hash",)}),
        fks={"user_id": ("users.id", CASCADE)},
        indexes=(Idx(("user_id",)),),
    ),
    "lti_pending_links": Table(
        columns={
            "id": _id(),
            "token_hash": Col(varchar(64)),
            "platform_id": _fk(),
            "user_id": _fk(),
            "context_id": Col(varchar(255)),
            "context_title": Col(varchar(255), nullable=True),
            "memberships_url": Col(varchar(1000), nullable=True),
            "content_item_id": Col(INT, nullable=True),
            "frame_origins": Col(TEXT_ARRAY, default=EMPTY_TEXT_ARRAY),
            "expires_at": Col(TSTZ),
            "created_at": _created(),
        },
        unique=frozenset({("token_hash",)}),
        fks={"platform_id": ("lti_platforms.id", CASCADE), "user_id": ("users.id", CASCADE)},
        indexes=(Idx(("platform_id",)), Idx(("user_id",))),
    ),
    "lti_deep_links": Table(
        columns={
            "id": _id(),
            "token_hash": Col(varchar(64)),
            "platform_id": _fk(),
            "user_id": _fk(),
            "deployment_id": Col(varchar(255)),
            "return_url": Col(varchar(1000)),
            "data": Col(TEXT, nullable=True),
            "frame_origins": Col(TEXT_ARRAY, default=EMPTY_TEXT_ARRAY),
            "expires_at": Col(TSTZ),
            "created_at": _created(),
        },
        unique=frozenset({("token_hash",)}),
        fks={"platform_id": ("lti_platforms.id", CASCADE), "user_id": ("users.id", CASCADE)},
        indexes=(Idx(("platform_id",)), Idx(("user_id",))),
    ),
    "lti_registration_links": Table(
        columns={
            "id": _id(),
            "token_hash": Col(varchar(64)),
            "university_id": _fk(),
            "created_by_id": _fk(nullable=True),
            "expires_at": Col(TSTZ),
            "used_at": _nullable_ts(),
            "platform_id": _fk(nullable=True),
            "created_at": _created(),
        },
        unique=frozenset({("token_hash",)}),
        fks={
            "university_id": ("universities.id", CASCADE),
            "created_by_id": ("users.id", SET_NULL),
            "platform_id": ("lti_platforms.id", SET_NULL),
        },
        indexes=(Idx(("university_id",)), Idx(("created_by_id",)), Idx(("platform_id",))),
    ),
    "lti_line_items": Table(
        columns={
            "id": _id(),
            "lti_context_id": _fk(),
            "content_item_id": _fk(nullable=True),
            "lineitem_url": Col(varchar(1000)),
            "created_at": _created(),
            "updated_at": _created(),
        },
        unique=frozenset({("lti_context_id", "content_item_id")}),
        fks={"lti_context_id": ("lti_contexts.id", CASCADE), "content_item_id": ("content_items.id", CASCADE)},
        indexes=(Idx(("content_item_id",)),),
    ),
    "lti_score_sends": Table(
        columns={
            "id": _id(),
            "line_item_id": _fk(),
            "quiz_attempt_id": _fk(nullable=True),
            "course_enrollment_id": _fk(nullable=True),
            "user_id": _fk(),
            "payload": Col(JSONB),
            "status": Col(varchar(20), default=string_default("PENDING")),
            "attempts": Col(INT, default=ZERO),
            "next_attempt_at": _created(),
            "lease_until": _nullable_ts(),
            "last_error": Col(TEXT, nullable=True),
            "created_at": _created(),
            "sent_at": _nullable_ts(),
        },
        unique=frozenset({("line_item_id", "quiz_attempt_id"), ("line_item_id", "course_enrollment_id")}),
        fks={
            "line_item_id": ("lti_line_items.id", CASCADE),
            "quiz_attempt_id": ("quiz_attempts.id", CASCADE),
            "course_enrollment_id": ("course_enrollments.id", CASCADE),
            "user_id": ("users.id", CASCADE),
        },
        indexes=(
            Idx(("quiz_attempt_id",)),
            Idx(("course_enrollment_id",)),
            Idx(("user_id",)),
            Idx(("status", "next_attempt_at")),
        ),
        checks={
            "ck_lti_score_sends_status_known": (
                "status ::text = ANY ARRAY['PENDING'::character varying, 'SENDING'::character varying,"
                " 'SENT'::character varying, 'FAILED'::character varying] ::text[]"
            )
        },
    ),
    # Migration 0008: data exports and chat retention (docs/identity.md "Take it or erase it").
    "data_exports": Table(
        columns={
            "id": _id(),
            "user_id": _fk(),
            "status": Col(varchar(16), default=string_default("PENDING")),
            "attempts": Col(INT, default=ZERO),
            "next_attempt_at": _created(),
            "lease_until": _nullable_ts(),
            "last_error": Col(varchar(1000), nullable=True),
            "archive": Col("bytea", nullable=True),
            "size_bytes": Col(BIGINT, nullable=True),
            "created_at": _created(),
            "completed_at": _nullable_ts(),
            "expires_at": Col(TSTZ),
        },
        fks={"user_id": ("users.id", CASCADE)},
        indexes=(Idx(("user_id",)), Idx(("status", "next_attempt_at")), Idx(("expires_at",))),
    ),
    "chat_retention_runs": Table(
        columns={
            "run_on": Col(DATE),
            "started_at": Col(TSTZ),
            "universities": Col(INT, default=ZERO),
            "sessions_deleted": Col(INT, default=ZERO),
            "messages_deleted": Col(INT, default=ZERO),
        },
        primary_key=("run_on",),
    ),
    # Migration 0011: tutor governance (docs/tutor-governance.md).
    "university_tutor_policies": Table(
        columns={
            "university_id": Col(INT),
            "enabled": Col(BOOL, nullable=True),
            "monthly_budget_usd": Col(FLOAT, nullable=True),
            "user_daily_budget_usd": Col(FLOAT, nullable=True),
            "chat_visibility": Col(varchar(16), nullable=True),
            "support_text": Col(TEXT, nullable=True),
            "safety_contact_email": Col(varchar(255), nullable=True),
            "updated_at": _created(),
        },
        fks={"university_id": ("universities.id", CASCADE)},
        primary_key=("university_id",),
    ),
    "course_tutor_policies": Table(
        columns={
            "course_id": Col(INT),
            "enabled": Col(BOOL, nullable=True),
            "monthly_budget_usd": Col(FLOAT, nullable=True),
            "user_daily_budget_usd": Col(FLOAT, nullable=True),
            "updated_at": _created(),
        },
        fks={"course_id": ("courses.id", CASCADE)},
        primary_key=("course_id",),
    ),
    "tutor_usage": Table(
        columns={
            "id": _big_id(),
            "user_id": _fk(nullable=True),
            "course_id": _fk(nullable=True),
            "university_id": _fk(nullable=True),
            "message_id": _fk(nullable=True),
            "provider": Col(varchar(32), nullable=True),
            "model": Col(varchar(255)),
            "input_tokens": Col(INT),
            "output_tokens": Col(INT),
            "cost_usd": Col(FLOAT),
            "created_at": _created(),
        },
        fks={
            "user_id": ("users.id", SET_NULL),
            "course_id": ("courses.id", SET_NULL),
            "university_id": ("universities.id", SET_NULL),
            "message_id": ("chat_messages.id", SET_NULL),
        },
        indexes=(
            Idx(("user_id", "created_at")),
            Idx(("course_id", "created_at")),
            Idx(("university_id", "created_at")),
            Idx(("created_at",)),
            Idx(("message_id",)),
        ),
    ),
    "tutor_flags": Table(
        columns={
            "id": _id(),
            "message_id": _fk(nullable=True),  # NULL: an escalated flag whose chat was deleted (0014)
            "session_id": _fk(nullable=True),
            "user_id": _fk(),
            "university_id": _fk(nullable=True),
            "course_id": _fk(nullable=True),
            "category": Col(varchar(32)),
            "severity": Col(varchar(16)),
            "screen": Col(varchar(16)),
            "source": Col(varchar(16)),
            "escalated": Col(BOOL),
            "status": Col(varchar(16), default=string_default("open")),
            "note": Col(TEXT, nullable=True),
            "handled_by_id": _fk(nullable=True),
            "handled_at": _nullable_ts(),
            "created_at": _created(),
        },
        fks={
            "message_id": ("chat_messages.id", SET_NULL),
            "session_id": ("chat_sessions.id", SET_NULL),
            "user_id": ("users.id", CASCADE),
            "university_id": ("universities.id", CASCADE),
            "course_id": ("courses.id", SET_NULL),
            "handled_by_id": ("users.id", SET_NULL),
        },
        indexes=(
            Idx(("message_id",)),
            Idx(("session_id",)),
            Idx(("user_id",)),
            Idx(("course_id",)),
            Idx(("handled_by_id",)),
            Idx(("university_id", "status", "created_at")),
        ),
    ),
    "university_settings": Table(
        columns={
            "university_id": Col(INT),
            "setting_key": Col(varchar(100)),
            "setting_value": Col(TEXT),
            "is_encrypted": Col(BOOL),
            "updated_at": _created(),
        },
        fks={"university_id": ("universities.id", CASCADE)},
        primary_key=("university_id", "setting_key"),
    ),
    # Migration 0009: the course index (docs/tutor.md "Retrieval and citations").
    "retrieval_chunks": Table(
        columns={
            "id": _id(),
            "course_id": _fk(),
            "content_item_id": _fk(),
            "module_id": Col(INT),
            "chunk_index": Col(INT),
            "title": Col(varchar(255)),
            "body": Col(TEXT),
            "tsv": Col("tsvector"),
            "created_at": _created(),
        },
        unique=frozenset({("content_item_id", "chunk_index")}),
        fks={"course_id": ("courses.id", CASCADE), "content_item_id": ("content_items.id", CASCADE)},
        indexes=(Idx(("course_id",)), Idx(("tsv",), method="gin")),
    ),
    "retrieval_embedding_jobs": Table(
        columns={
            "id": _id(),
            "content_item_id": Col(INT),
            "status": Col(varchar(16), default=string_default("PENDING")),
            "attempts": Col(INT, default=ZERO),
            "next_attempt_at": _created(),
            "lease_until": _nullable_ts(),
            "last_error": Col(varchar(1000), nullable=True),
            "created_at": _created(),
        },
        indexes=(Idx(("status", "next_attempt_at")), Idx(("content_item_id",))),
        checks={
            "ck_retrieval_embedding_jobs_status_known": (
                "status ::text = ANY ARRAY['PENDING'::character varying, 'RUNNING'::character varying,"
                " 'DONE'::character varying, 'FAILED'::character varying] ::text[]"
            )
        },
    ),
}

# Migration 0009's vector part: only on a server that has the `vector` extension (the embedded one does; CI's
# PostgreSQL 15 does not). Its HNSW indexes, one per dimension, partial and on an expression, are created by the
# embedding worker when needed (retrieval/repository.py), so the reference checks list only the table's own.
VECTOR_TABLES: dict[str, Table] = {
    "retrieval_embeddings": Table(
        columns={
            "chunk_id": Col(INT),
            "model": Col(varchar(200)),
            "dims": Col(INT),
            "embedding": Col("vector"),
            "created_at": _created(),
        },
        fks={"chunk_id": ("retrieval_chunks.id", CASCADE)},
        primary_key=("chunk_id",),
    ),
}
HNSW_INDEX_PREFIX = "ix_retrieval_embeddings_hnsw_"
