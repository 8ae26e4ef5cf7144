"""The course index: chunks of every published content item, and the queue of items whose chunks need embeddings.

The vectors themselves live in `retrieval_embeddings`, which exists only where the `vector` extension does (the
migration creates it when `pg_available_extensions` lists it). It is a Core table of its own metadata, not of
`Base.metadata`, so the models (and Alembic's autogenerate) describe the schema every server has; the vector SQL
is written by hand in repository.py.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from twosigma.db.base import Base, created_at_column

# Characters of item text per chunk (~300 tokens at 4 characters a token): big enough to hold a paragraph with its
# context, small enough that four of them fit the default retrieval budget of 1500 tokens.
MAX_CHUNK_CHARS = 1200


class RetrievalChunk(Base):
    __tablename__ = "retrieval_chunks"
    __table_args__ = (
        UniqueConstraint("content_item_id", "chunk_index"),
        Index(None, "tsv", postgresql_using="gin"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), nullable=False, index=True)
    content_item_id: Mapped[int] = mapped_column(ForeignKey("content_items.id", ondelete="CASCADE"), nullable=False)
    # The item's module when indexed (kept current by every move); no FK: the item's own FK cascades first.
    module_id: Mapped[int] = mapped_column(Integer, nullable=False)
    chunk_index: Mapped[int] = mapped_column(Integer, nullable=False)
    title: Mapped[str] = mapped_column(String(255), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    tsv: Mapped[str] = mapped_column(TSVECTOR, nullable=False)
    created_at: Mapped[datetime] = created_at_column()


# PENDING: waiting for the worker; RUNNING: claimed until lease_until; DONE: embedded; FAILED: given up.
EMBEDDING_JOB_STATUSES = ("PENDING", "RUNNING", "DONE", "FAILED")


class EmbeddingJob(Base):
    """An item whose chunks need (new) vectors: written in the content write's transaction, drained by the worker."""

    __tablename__ = "retrieval_embedding_jobs"
    __table_args__ = (
        CheckConstraint("status IN ('PENDING', 'RUNNING', 'DONE', 'FAILED')", name="status_known"),
        Index(None, "status", "next_attempt_at"),
        Index(None, "content_item_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # No FK: a job outlives its item's deletion and is then a no-op.
    content_item_id: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default=text("'PENDING'"))
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    created_at: Mapped[datetime] = created_at_column()


# Only where the `vector` extension exists; the `embedding` column (type `vector`, any dimension) is named in SQL.
vector_metadata = MetaData()
retrieval_embeddings = Table(
    "retrieval_embeddings",
    vector_metadata,
    Column("chunk_id", Integer, primary_key=True),
    Column("model", String(200), nullable=False),
    Column("dims", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
