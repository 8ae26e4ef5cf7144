"""The course index (issue 21): chunks with full-text search per course, the embedding queue, and — where the
server has the `vector` extension — the vectors.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08 03:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _vector_available() -> bool:
    bind = op.get_bind()
    return bool(bind.execute(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")).scalar())


def _create_vector_part() -> None:
    """The extension and the vectors' table, when the server ships the extension and we may create it (a role
    without the right leaves the index full-text only, like a server without the extension)."""
    if not _vector_available():
        return
    bind = op.get_bind()
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS vector"))
    except sa.exc.DBAPIError:
        return
    # `embedding` has no fixed dimension: models differ. Each dimension gets its own HNSW index, an expression index
    # over `embedding::vector(N)` restricted to `dims = N`, created by the worker when it first stores vectors of N
    # dimensions (retrieval/repository.py `ensure_hnsw_index`).
    op.execute(
        """
        CREATE TABLE retrieval_embeddings (
            chunk_id integer NOT NULL,
            model character varying(200) NOT NULL,
            dims integer NOT NULL,
            embedding vector NOT NULL,
            created_at timestamp with time zone DEFAULT now() NOT NULL,
            CONSTRAINT pk_retrieval_embeddings PRIMARY KEY (chunk_id),
            CONSTRAINT fk_retrieval_embeddings_chunk_id_retrieval_chunks FOREIGN KEY (chunk_id)
                REFERENCES retrieval_chunks (id) ON DELETE CASCADE
        )
        """
    )


def upgrade() -> None:
    op.add_column(
        "courses",
        sa.Column("text_search_config", sa.String(length=63), server_default=sa.text("'simple'"), nullable=False),
    )
    op.create_table(
        "retrieval_chunks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("content_item_id", sa.Integer(), nullable=False),
        sa.Column("module_id", sa.Integer(), nullable=False),
        sa.Column("chunk_index", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("tsv", postgresql.TSVECTOR(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["content_item_id"],
            ["content_items.id"],
            name=op.f("fk_retrieval_chunks_content_item_id_content_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_retrieval_chunks_course_id_courses"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retrieval_chunks")),
        sa.UniqueConstraint(
            "content_item_id", "chunk_index", name=op.f("uq_retrieval_chunks_content_item_id_chunk_index")
        ),
    )
    op.create_index(op.f("ix_retrieval_chunks_course_id"), "retrieval_chunks", ["course_id"])
    op.create_index(op.f("ix_retrieval_chunks_tsv"), "retrieval_chunks", ["tsv"], postgresql_using="gin")
    op.create_table(
        "retrieval_embedding_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("content_item_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default=sa.text("'PENDING'"), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=1000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "status IN ('PENDING', 'RUNNING', 'DONE', 'FAILED')",
            name=op.f("ck_retrieval_embedding_jobs_status_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retrieval_embedding_jobs")),
    )
    op.create_index(
        op.f("ix_retrieval_embedding_jobs_status_next_attempt_at"),
        "retrieval_embedding_jobs",
        ["status", "next_attempt_at"],
    )
    op.create_index(
        op.f("ix_retrieval_embedding_jobs_content_item_id"), "retrieval_embedding_jobs", ["content_item_id"]
    )
    _create_vector_part()
    # Existing installs: every published item is indexed by `twosigma index rebuild` (docs/tutor.md); a migration
    # does not run application code.


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS retrieval_embeddings")
    op.drop_index(op.f("ix_retrieval_embedding_jobs_content_item_id"), table_name="retrieval_embedding_jobs")
    op.drop_index(op.f("ix_retrieval_embedding_jobs_status_next_attempt_at"), table_name="retrieval_embedding_jobs")
    op.drop_table("retrieval_embedding_jobs")
    op.drop_index(op.f("ix_retrieval_chunks_tsv"), table_name="retrieval_chunks")
    op.drop_index(op.f("ix_retrieval_chunks_course_id"), table_name="retrieval_chunks")
    op.drop_table("retrieval_chunks")
    op.drop_column("courses", "text_search_config")
