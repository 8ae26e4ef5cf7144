"""A version per course's content, moved by the database on every change to its modules and items (issue 18).

`courses.content_version` is raised by statement-level triggers on `modules` and `content_items` (and on
`content_types`, whose names the tree shows) whatever writes them: the app's services, the demo seed's COPY, a
script, psql. A reader that caches what it built from a course's content keys it by this number, so no writer has
to remember to invalidate anything (content/tree_cache.py).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08 01:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# One function per kind of transition table; PostgreSQL allows transition tables on single-event triggers only.
_FUNCTIONS = {
    "bump_course_content_inserted": "SELECT course_id FROM new_rows",
    "bump_course_content_updated": "SELECT course_id FROM new_rows UNION SELECT course_id FROM old_rows",
    "bump_course_content_deleted": "SELECT course_id FROM old_rows",
}
_REFERENCING = {
    "INSERT": ("bump_course_content_inserted", "NEW TABLE AS new_rows"),
    "UPDATE": ("bump_course_content_updated", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    "DELETE": ("bump_course_content_deleted", "OLD TABLE AS old_rows"),
}
_TABLES = ("modules", "content_items")


def upgrade() -> None:
    op.add_column("courses", sa.Column("content_version", sa.BigInteger(), server_default=sa.text("0"), nullable=False))
    for name, courses in _FUNCTIONS.items():
        op.execute(
            f"""
            CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE courses SET content_version = content_version + 1 WHERE id IN ({courses});
                RETURN NULL;
            END
            $$
            """
        )
    for table in _TABLES:
        for event, (function, referencing) in _REFERENCING.items():
            op.execute(
                f"CREATE TRIGGER {table}_content_version_{event.lower()} AFTER {event} ON {table} "
                f"REFERENCING {referencing} FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
            )
    # A content type's name and label appear in every tree holding one of its items.
    op.execute(
        """
        CREATE FUNCTION bump_course_content_type_renamed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE courses SET content_version = content_version + 1
            WHERE id IN (SELECT DISTINCT i.course_id FROM content_items i JOIN new_rows t ON t.id = i.content_type_id);
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER content_types_content_version_update AFTER UPDATE ON content_types "
        "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION bump_course_content_type_renamed()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER content_types_content_version_update ON content_types")
    op.execute("DROP FUNCTION bump_course_content_type_renamed()")
    for table in _TABLES:
        for event in _REFERENCING:
            op.execute(f"DROP TRIGGER {table}_content_version_{event.lower()} ON {table}")
    for name in _FUNCTIONS:
        op.execute(f"DROP FUNCTION {name}()")
    op.drop_column("courses", "content_version")
