"""Every query on the mail outbox."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.jobs.queue import JobTable
from twosigma.mail.models import MailOutbox
from twosigma.mail.redaction import redact

OUTBOX = JobTable(
    MailOutbox.__table__,  # type: ignore[arg-type]
    pending="PENDING",
    running="SENDING",
    done="SENT",
    failed="FAILED",
    max_attempts=8,
    # Generous next to the SMTP timeout (30 s per step): a lease only runs out when the worker is gone.
    reclaim_expired=False,
)


async def add(session: AsyncSession, values: dict[str, Any]) -> None:
    """Insert a message unless one with its idempotency key exists (the same cause, written again)."""
    await session.execute(
        insert(MailOutbox).values(**values).on_conflict_do_nothing(index_elements=["idempotency_key"])
    )


async def by_ids(session: AsyncSession, ids: Sequence[int]) -> Sequence[MailOutbox]:
    return (await session.scalars(select(MailOutbox).where(MailOutbox.id.in_(ids)).order_by(MailOutbox.id))).all()


async def mark_logged(session: AsyncSession, message_id: int, attempts: int) -> None:
    await session.execute(
        update(MailOutbox)
        .where(MailOutbox.id == message_id, MailOutbox.attempts == attempts, MailOutbox.status == "SENDING")
        .values(status="LOGGED", lease_until=None)
    )


def listing(status: str | None) -> Select[MailOutbox]:
    stmt = select(MailOutbox).order_by(MailOutbox.created_at.desc(), MailOutbox.id.desc())
    return stmt.where(MailOutbox.status == status) if status else stmt


async def counts_by_status(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(MailOutbox.status, func.count().label("n")).group_by(MailOutbox.status))
    return {row.status: int(row.n) for row in rows}


def redacted_values(text_body: str, html_body: str) -> dict[str, str]:
    return {"body_text": redact(text_body), "body_html": redact(html_body)}


async def when_due(session: AsyncSession, message_id: int) -> datetime | None:
    return await session.scalar(select(MailOutbox.next_attempt_at).where(MailOutbox.id == message_id))


async def delete_for(session: AsyncSession, addresses: list[str], key_prefixes: list[str]) -> None:
    lowered = [address.lower() for address in addresses]
    await session.execute(
        delete(MailOutbox).where(
            or_(
                func.lower(MailOutbox.recipient).in_(lowered),
                *(MailOutbox.idempotency_key.startswith(prefix, autoescape=True) for prefix in key_prefixes),
            )
        ),
        execution_options={"synchronize_session": False},
    )
