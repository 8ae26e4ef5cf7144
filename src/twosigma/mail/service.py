"""Writing mail to the outbox (in the caller's transaction) and the worker that sends it.

Delivery guarantee (docs/identity.md "Mail"): every message reaches the SMTP server **at most once**, and **at
least once unless its outcome is unknown**:
1. claim (own transaction, `FOR UPDATE SKIP LOCKED`): PENDING → SENDING with a lease, attempts + 1;
2. send, outside any transaction, with a Message-ID derived from the row (`<outbox.{id}.{key digest}@domain>`);
3. mark (own transaction, fenced by the claim's attempt number): SENT, bodies redacted; or back to PENDING after a
   backoff when the server did not take it (down, 4xx), FAILED after 8 attempts or on a 5xx.
A crash (or a lost connection during DATA) between the server taking the message and step 3 leaves the row
SENDING; when its lease runs out the sweep marks it FAILED "outcome unknown" instead of sending it again. So no
message is ever handed to the server twice; the price is that such a message (a window of milliseconds per
message) may be lost, and then it is visible as FAILED with that reason in `GET /admin/outbox`.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate
from typing import cast

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.config import Environment, Settings
from twosigma.db.engine import Database
from twosigma.jobs import queue
from twosigma.jobs.runner import Queue
from twosigma.kit.pagination import PageParams, PageResult, paginate
from twosigma.mail import repository
from twosigma.mail.models import MailOutbox
from twosigma.mail.redaction import first_link, redact
from twosigma.mail.schemas import MailStatus, OutboxItem
from twosigma.mail.smtp import DeliveryFailed, OutcomeUnknown, SmtpConfig, send
from twosigma.mail.templates import render
from twosigma.system_settings.effective import EffectiveSettings, get_effective_settings

logger = logging.getLogger(__name__)

QUEUE_NAME = "mail"
BATCH_SIZE = 20


async def enqueue(
    session: AsyncSession,
    *,
    recipient: str,
    template: str,
    locale: str | None,
    link: str,
    values: dict[str, str],
    idempotency_key: str,
) -> None:
    """Write one message to the outbox in the caller's transaction: it is sent only if that transaction commits,
    and written once per `idempotency_key`."""
    rendered = render(template, locale, link, values)
    await repository.add(
        session,
        {
            "idempotency_key": idempotency_key,
            "recipient": recipient,
            "subject": rendered.subject,
            "body_text": rendered.text,
            "body_html": rendered.html,
            "template": template,
            "locale": rendered.language,
        },
    )


def message_id(row: MailOutbox, from_address: str) -> str:
    """Stable per row: a retried message keeps its Message-ID, so a receiver can tell copies apart."""
    digest = hashlib.sha256(row.idempotency_key.encode()).hexdigest()[:16]
    domain = from_address.rpartition("@")[2] or "localhost"
    return f"<outbox.{row.id}.{digest}@{domain}>"


def build_message(row: MailOutbox, config: SmtpConfig) -> EmailMessage:
    message = EmailMessage()
    message["From"] = config.from_address
    message["To"] = row.recipient
    message["Subject"] = row.subject
    message["Message-ID"] = message_id(row, config.from_address)
    message["Date"] = formatdate(row.created_at.timestamp(), usegmt=True)
    message.set_content(row.body_text)
    message.add_alternative(row.body_html, subtype="html")
    return message


def smtp_config(effective: EffectiveSettings) -> SmtpConfig | None:
    if not effective.mail_smtp_host:
        return None
    return SmtpConfig(
        host=effective.mail_smtp_host,
        port=effective.mail_smtp_port,
        username=effective.mail_smtp_username,
        password=effective.mail_smtp_password,
        starttls=effective.mail_smtp_starttls,
        from_address=effective.mail_from_address,
    )


_warned_unconfigured = False


async def deliver_batch(database: Database, settings: Settings, now: datetime) -> int:
    """Claim and handle one batch of due messages; how many were handled (0: nothing due, or nothing to do)."""
    global _warned_unconfigured
    async with database.sessionmaker() as session, session.begin():
        await queue.sweep_expired(session, repository.OUTBOX, now)
        config = smtp_config(await get_effective_settings(session, settings))
    if config is None and settings.environment is Environment.PRODUCTION:
        if not _warned_unconfigured:
            _warned_unconfigured = True
            logger.warning("mail is not configured (mail.smtp_host): messages wait in the outbox")
        return 0
    async with database.sessionmaker() as session, session.begin():
        claimed = await queue.claim(session, repository.OUTBOX, now, BATCH_SIZE)
        rows = await repository.by_ids(session, [row.id for row in claimed])
    attempts = {row.id: row.attempts for row in claimed}
    for row in rows:
        await _deliver(database, config, row, attempts[row.id], now)
    return len(rows)


async def _deliver(database: Database, config: SmtpConfig | None, row: MailOutbox, attempt: int, now: datetime) -> None:
    if config is None:
        # A development or test install without SMTP: the link goes to the log, the message stays in the outbox.
        logger.info(
            "mail not sent (no SMTP configured): %s to %s, link %s",
            row.template,
            row.recipient,
            first_link(row.body_text),
        )
        async with database.sessionmaker() as session, session.begin():
            await repository.mark_logged(session, row.id, attempt)
        return
    try:
        message = build_message(row, config)
    except (ValueError, TypeError) as exc:
        # A message that cannot be built (a header the email package refuses) fails alone: it is never sent, and
        # the rest of the batch, already claimed, is still delivered.
        async with database.sessionmaker() as session, session.begin():
            await queue.retry(
                session, repository.OUTBOX, row.id, attempt, f"Not a valid message: {exc}", now, permanent=True
            )
        logger.error("mail %s cannot be built, not sent: %s", row.id, exc)
        return
    try:
        await send(config, message)
    except DeliveryFailed as exc:
        async with database.sessionmaker() as session, session.begin():
            status = await queue.retry(
                session, repository.OUTBOX, row.id, attempt, str(exc), now, permanent=exc.permanent
            )
        logger.warning("mail %s not sent (attempt %s, now %s): %s", row.id, attempt, status, exc)
        return
    except OutcomeUnknown as exc:
        async with database.sessionmaker() as session, session.begin():
            await queue.retry(
                session, repository.OUTBOX, row.id, attempt, f"Outcome unknown: {exc}", now, permanent=True
            )
        logger.error("mail %s: the server may or may not have taken it (%s); not sent again", row.id, exc)
        return
    async with database.sessionmaker() as session, session.begin():
        await queue.complete(
            session,
            repository.OUTBOX,
            row.id,
            attempt,
            sent_at=now,
            **repository.redacted_values(row.body_text, row.body_html),
        )


def mail_queue(settings: Settings) -> Queue:
    async def batch(database: Database, now: datetime) -> int:
        return await deliver_batch(database, settings, now)

    return Queue(QUEUE_NAME, batch)


def to_item(row: MailOutbox) -> OutboxItem:
    return OutboxItem(
        id=row.id,
        recipient=row.recipient,
        subject=row.subject,
        template=row.template,
        locale=row.locale,
        status=cast(MailStatus, row.status),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
        sent_at=row.sent_at,
        created_at=row.created_at,
        body_text=redact(row.body_text),
    )


async def list_outbox(session: AsyncSession, params: PageParams, status: str | None) -> PageResult[OutboxItem]:
    page = await paginate(session, repository.listing(status), params)
    return PageResult(items=[to_item(row) for row in page.items], page=page.page, limit=page.limit, total=page.total)


async def forget_recipient(session: AsyncSession, addresses: list[str], key_prefixes: list[str]) -> None:
    """An account being erased: every message to one of its `addresses` or whose idempotency key starts with one of
    `key_prefixes` (mails about it sent elsewhere, such as the notice to a former address) is deleted, sent or not:
    an erased person gets no more mail, and the outbox keeps no copy."""
    await repository.delete_for(session, addresses, key_prefixes)
