"""The server's lifespan runs the job queues in the background and stops them cleanly on shutdown."""

from __future__ import annotations

import asyncio

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.fixtures.smtp import SmtpServer
from tests.reliability.scratch import restored_logging
from twosigma.app import create_app
from twosigma.config import Settings
from twosigma.db.engine import Database, make_sessionmaker
from twosigma.jobs.models import JobQueueRun
from twosigma.kit.state import state_of
from twosigma.mail import service
from twosigma.mail.models import MailOutbox
from twosigma.privacy.models import ChatRetentionRun


async def test_a_server_sends_committed_mail_in_the_background_and_stops_on_shutdown(
    settings: Settings, db_engine: AsyncEngine, smtp: SmtpServer
) -> None:
    with restored_logging():  # a server's create_app configures logging for the process; the tests' is pytest's
        app = create_app(settings=settings)  # no database given: the lifespan connects, as in `twosigma serve`
    database = Database(engine=db_engine, sessionmaker=make_sessionmaker(db_engine))
    try:
        async with app.router.lifespan_context(app):
            runner = state_of(app).jobs
            runner.interval_seconds = 0.05
            async with database.sessionmaker() as session, session.begin():
                await service.enqueue(
                    session,
                    recipient="background@example.edu",
                    template="verify_email",
                    locale="en",
                    link="http://localhost:8000/verify-email?token=t",
                    values={"name": "Ada"},
                    idempotency_key="background",
                )
            # Wait for the background loop (no request drives it); a bounded wait, not a timing assertion.
            for _ in range(400):
                if smtp.inbox.to("background@example.edu"):
                    break
                await asyncio.sleep(0.05)
            assert len(smtp.inbox.to("background@example.edu")) == 1
        # Shutdown stopped the loop (the lifespan awaited it) and nothing is left claimed.
        async with database.sessionmaker() as session:
            status = await session.scalar(
                select(MailOutbox.status).where(MailOutbox.recipient == "background@example.edu")
            )
            assert status == "SENT"
            assert await session.get(JobQueueRun, "mail") is not None
    finally:
        async with database.sessionmaker() as session, session.begin():
            await session.execute(delete(MailOutbox).where(MailOutbox.recipient == "background@example.edu"))
            await session.execute(delete(JobQueueRun))
            # The server drained every queue, the daily chat retention included: its day's claim goes too.
            await session.execute(delete(ChatRetentionRun))
