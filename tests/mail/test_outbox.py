"""The outbox and its worker against a real SMTP server on 127.0.0.1: delivery, retries with backoff while the
server is down, at most one copy after a crash between send and mark, two workers draining at once, the
development fallback, and the admins' listing."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from tests.fixtures.factories import auth_headers, make_user
from tests.fixtures.smtp import SmtpServer, drain, html_of, text_of
from tests.fixtures.tenancy import make_platform_admin
from twosigma.config import Environment, Settings
from twosigma.db.engine import Database, make_sessionmaker
from twosigma.jobs import queue
from twosigma.jobs.models import JobQueueRun
from twosigma.jobs.runner import JobRunner
from twosigma.kit.state import state_of
from twosigma.mail import repository, service
from twosigma.mail.models import MailOutbox
from twosigma.system_settings.models import SystemSetting

RESET_REQUEST = "/api/v1/auth/password-reset/request"


async def outbox(db: AsyncSession, recipient: str) -> list[MailOutbox]:
    rows = await db.scalars(
        select(MailOutbox)
        .where(MailOutbox.recipient == recipient)
        .order_by(MailOutbox.id)
        .execution_options(populate_existing=True)
    )
    return list(rows)


async def enqueue(db: AsyncSession, recipient: str, key: str) -> None:
    await service.enqueue(
        db,
        recipient=recipient,
        template="verify_email",
        locale="en",
        link="http://localhost:8000/verify-email?token=secret-token-value",
        values={"name": "Ada"},
        idempotency_key=key,
    )
    await db.flush()


class TestDelivery:
    async def test_a_message_written_by_a_request_arrives_once_and_is_marked_sent(
        self, client: httpx.AsyncClient, app: FastAPI, db: AsyncSession, smtp: SmtpServer
    ) -> None:
        user = await make_user(db, full_name="Ada <b>Lovelace</b>")
        response = await client.post(RESET_REQUEST, json={"email": user.email})
        assert response.status_code == 202
        [row] = await outbox(db, user.email)
        assert row.status == "PENDING"  # written by the request, sent by the worker

        assert await drain(client._transport.app) == 1  # type: ignore[attr-defined]
        [message] = smtp.inbox.to(user.email)
        assert message["From"] == "noreply@twosigma.example"
        assert message["Message-ID"] == service.message_id(row, "noreply@twosigma.example")
        assert "Ada <b>Lovelace</b>" in text_of(message)
        assert "Ada &lt;b&gt;Lovelace&lt;/b&gt;" in html_of(message)
        assert "<b>" not in html_of(message)

        [row] = await outbox(db, user.email)
        assert (row.status, row.attempts, row.last_error) == ("SENT", 1, None)
        assert row.sent_at is not None
        # Once sent, the database keeps no live token.
        assert "token=[redacted]" in row.body_text
        assert "token=[redacted]" in row.body_html

        assert await drain(client._transport.app) == 0  # type: ignore[attr-defined]
        assert len(smtp.inbox.to(user.email)) == 1

    async def test_one_cause_written_twice_is_one_message(self, db: AsyncSession) -> None:
        await enqueue(db, "twice@example.edu", "same-key")
        await enqueue(db, "twice@example.edu", "same-key")
        assert len(await outbox(db, "twice@example.edu")) == 1

    async def test_each_drain_is_recorded_for_the_doctor(
        self, app: FastAPI, db: AsyncSession, smtp: SmtpServer
    ) -> None:
        at = datetime(2031, 1, 1, tzinfo=UTC)
        await enqueue(db, "recorded@example.edu", "recorded")
        await drain(app, at)
        run = await db.get(JobQueueRun, "mail", populate_existing=True)
        assert run is not None
        assert run.last_drained_at == at
        assert run.last_processed >= 1


class TestSmtpDown:
    async def test_nothing_is_lost_and_the_message_is_delivered_once_when_the_server_is_back(
        self, client: httpx.AsyncClient, app: FastAPI, db: AsyncSession, smtp_down: SmtpServer
    ) -> None:
        user = await make_user(db)
        # The request does not wait for the mail server.
        response = await client.post(RESET_REQUEST, json={"email": user.email})
        assert response.status_code == 202

        now = datetime.now(UTC)
        assert await drain(app, now) == 1
        [row] = await outbox(db, user.email)
        assert (row.status, row.attempts) == ("PENDING", 1)
        assert row.last_error is not None
        assert row.next_attempt_at == now + queue.backoff(repository.OUTBOX, 1)

        assert await drain(app, now + timedelta(seconds=1)) == 0  # not due yet: backing off
        later = now + queue.backoff(repository.OUTBOX, 1)
        assert await drain(app, later) == 1
        [row] = await outbox(db, user.email)
        assert (row.status, row.attempts) == ("PENDING", 2)
        assert row.next_attempt_at == later + queue.backoff(repository.OUTBOX, 2)  # twice as long

        smtp_down.start()
        assert await drain(app, later + timedelta(hours=1)) == 1
        assert await drain(app, later + timedelta(hours=2)) == 0
        assert len(smtp_down.inbox.to(user.email)) == 1
        [row] = await outbox(db, user.email)
        assert (row.status, row.attempts, row.last_error) == ("SENT", 3, None)

    async def test_after_the_last_attempt_the_message_is_failed_with_its_reason(
        self, app: FastAPI, db: AsyncSession, smtp_down: SmtpServer
    ) -> None:
        await enqueue(db, "never@example.edu", "never")
        at = datetime.now(UTC)
        for _ in range(repository.OUTBOX.max_attempts):
            assert await drain(app, at) == 1
            at += repository.OUTBOX.max_delay
        [row] = await outbox(db, "never@example.edu")
        assert (row.status, row.attempts) == ("FAILED", repository.OUTBOX.max_attempts)
        assert row.last_error
        assert await drain(app, at + timedelta(days=1)) == 0


class TestCrashBetweenSendAndMark:
    async def test_a_claim_whose_worker_vanished_is_failed_as_unknown_never_sent_again(
        self, app: FastAPI, db: AsyncSession, smtp: SmtpServer
    ) -> None:
        await enqueue(db, "crash@example.edu", "crash")
        now = datetime.now(UTC)
        # A worker claims the message (and, say, hands it to the server), then dies before marking it.
        claimed = await queue.claim(db, repository.OUTBOX, now, 10)
        assert [row.attempts for row in claimed] == [1]

        assert await drain(app, now + timedelta(seconds=1)) == 0  # its lease holds: nobody else takes it
        assert await drain(app, now + repository.OUTBOX.lease + timedelta(seconds=1)) == 0
        [row] = await outbox(db, "crash@example.edu")
        assert row.status == "FAILED"
        assert row.last_error is not None
        assert row.last_error.startswith("Outcome unknown")
        assert smtp.inbox.to("crash@example.edu") == []

    async def test_a_late_mark_of_a_lost_claim_changes_nothing(self, db: AsyncSession) -> None:
        await enqueue(db, "fenced@example.edu", "fenced")
        now = datetime.now(UTC)
        [claim] = await queue.claim(db, repository.OUTBOX, now, 10)
        assert await queue.retry(db, repository.OUTBOX, claim.id, claim.attempts, "down", now, permanent=False)
        # The same worker (or another) claims it again; the first claim's mark is fenced off by its attempt number.
        [again] = await queue.claim(db, repository.OUTBOX, now + timedelta(hours=1), 10)
        assert again.attempts == claim.attempts + 1
        assert not await queue.complete(db, repository.OUTBOX, claim.id, claim.attempts)
        assert await queue.complete(db, repository.OUTBOX, again.id, again.attempts)


class TestConcurrentWorkers:
    async def test_two_workers_draining_at_once_never_send_a_message_twice(
        self, settings: Settings, db_engine: AsyncEngine, smtp: SmtpServer
    ) -> None:
        """Committed rows and two runners with their own connections, as two server processes have."""
        database = Database(engine=db_engine, sessionmaker=make_sessionmaker(db_engine))
        recipients = [f"parallel{n}@example.edu" for n in range(30)]
        try:
            async with database.sessionmaker() as session, session.begin():
                for n, recipient in enumerate(recipients):
                    await enqueue(session, recipient, f"parallel-{n}")
            first = JobRunner([service.mail_queue(settings)])
            second = JobRunner([service.mail_queue(settings)])
            handled = await asyncio.gather(first.drain(database, "mail"), second.drain(database, "mail"))
            assert sum(handled) == len(recipients)
            for recipient in recipients:
                assert len(smtp.inbox.to(recipient)) == 1, recipient
            async with database.sessionmaker() as session:
                statuses = await session.scalars(select(MailOutbox.status).where(MailOutbox.recipient.in_(recipients)))
                assert set(statuses) == {"SENT"}
        finally:
            async with database.sessionmaker() as session, session.begin():
                await session.execute(delete(MailOutbox).where(MailOutbox.recipient.in_(recipients)))
                await session.execute(delete(JobQueueRun))


class TestWithoutSmtp:
    async def test_a_development_install_logs_the_link_and_keeps_the_message(
        self, app: FastAPI, db: AsyncSession, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("TWOSIGMA_MAIL_SMTP_HOST", raising=False)
        await enqueue(db, "dev@example.edu", "dev")
        with caplog.at_level(logging.INFO, logger="twosigma.mail.service"):
            assert await drain(app) == 1
        assert "http://localhost:8000/verify-email?token=secret-token-value" in caplog.text
        [row] = await outbox(db, "dev@example.edu")
        assert row.status == "LOGGED"
        assert "secret-token-value" in row.body_text  # kept: it is all a developer has

    async def test_a_production_install_keeps_messages_waiting_until_smtp_is_configured(
        self, app: FastAPI, db: AsyncSession, settings: Settings, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("TWOSIGMA_MAIL_SMTP_HOST", raising=False)
        production = settings.model_copy(update={"environment": Environment.PRODUCTION})
        await enqueue(db, "prod@example.edu", "prod")
        runner = JobRunner([service.mail_queue(production)])
        assert await runner.drain(state_of(app).database, "mail") == 0
        [row] = await outbox(db, "prod@example.edu")
        assert (row.status, row.attempts) == ("PENDING", 0)


class TestAdminOutbox:
    async def test_platform_admins_list_messages_with_tokens_redacted(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        admin = await make_platform_admin(db)
        await enqueue(db, "listed@example.edu", "listed")
        response = await client.get("/api/v1/admin/outbox", headers=auth_headers(settings, admin))
        assert response.status_code == 200, response.text
        body = response.json()
        [item] = [i for i in body["items"] if i["recipient"] == "listed@example.edu"]
        assert item["status"] == "PENDING"
        assert item["template"] == "verify_email"
        assert "token=[redacted]" in item["body_text"]
        assert "secret-token-value" not in response.text
        assert {"page", "limit", "total", "pages"} <= set(body)

        pending = await client.get(
            "/api/v1/admin/outbox", params={"status": "SENT"}, headers=auth_headers(settings, admin)
        )
        assert all(i["status"] == "SENT" for i in pending.json()["items"])

    async def test_anyone_else_is_refused(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        user = await make_user(db)
        assert (await client.get("/api/v1/admin/outbox", headers=auth_headers(settings, user))).status_code == 403
        assert (await client.get("/api/v1/admin/outbox")).status_code == 401


class TestMailSettings:
    async def test_the_smtp_password_is_stored_encrypted_and_never_shown(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        headers = auth_headers(settings, await make_platform_admin(db))
        put = await client.put(
            "/api/v1/admin/settings/mail.smtp_password", json={"value": "smtp-pass-0123456789"}, headers=headers
        )
        assert put.status_code == 200, put.text
        assert put.json()["is_encrypted"] is True
        assert "smtp-pass-0123456789" not in put.text
        listed = await client.get("/api/v1/admin/settings", headers=headers)
        assert "smtp-pass-0123456789" not in listed.text
        stored = await db.scalar(
            select(SystemSetting.setting_value).where(SystemSetting.setting_key == "mail.smtp_password")
        )
        assert stored is not None
        assert "smtp-pass-0123456789" not in stored

    async def test_a_typo_in_the_mail_namespace_is_refused(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        headers = auth_headers(settings, await make_platform_admin(db))
        put = await client.put("/api/v1/admin/settings/mail.smtp_hots", json={"value": "x"}, headers=headers)
        assert put.status_code == 422
