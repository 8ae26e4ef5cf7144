"""Review of the outbox from an attacker's side: a value a tenant controls must not inject mail headers, and one
message that cannot be built must not take the rest of its batch down with it."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.factories import DEFAULT_PASSWORD, auth_headers, make_user
from tests.fixtures.membership import Caller, Tenant
from tests.fixtures.smtp import SmtpServer, drain
from twosigma.config import Settings
from twosigma.mail.models import MailOutbox

RESET_REQUEST = "/api/v1/auth/password-reset/request"


async def _statuses(db: AsyncSession) -> dict[str, str]:
    rows = await db.scalars(select(MailOutbox).execution_options(populate_existing=True))
    return {row.recipient: row.status for row in rows}


class TestHeaderInjection:
    async def test_a_university_name_with_line_breaks_neither_injects_headers_nor_loses_other_mail(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        db: AsyncSession,
        smtp: SmtpServer,
        settings: Settings,
        a: Tenant,
    ) -> None:
        admin = Caller(client, settings, a.admin)
        renamed = await admin.patch(f"/universities/{a.university.id}", {"name": "Evil U\r\nBcc: spy@evil.example"})
        assert renamed.status_code == 200, renamed.text
        invited = await admin.post(
            f"/universities/{a.university.id}/roles", {"email": "invitee@example.edu", "role": "INSTRUCTOR"}
        )
        assert invited.status_code == 202, invited.text
        bystander = await make_user(db)
        assert (await client.post(RESET_REQUEST, json={"email": bystander.email})).status_code == 202

        assert await drain(app) == 2
        [invitation] = smtp.inbox.to("invitee@example.edu")
        assert str(invitation["Subject"]) == "You are invited to Evil U Bcc: spy@evil.example"
        assert invitation["Bcc"] is None
        assert len(smtp.inbox.to(bystander.email)) == 1
        assert smtp.inbox.to("spy@evil.example") == []
        statuses = await _statuses(db)
        assert (statuses["invitee@example.edu"], statuses[bystander.email]) == ("SENT", "SENT")


CHANGE_EMAIL = "/api/v1/users/me/email"


class TestEmailChangeIsNotAMailCannon:
    async def test_one_address_gets_a_few_confirmations_however_many_accounts_ask(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        answers = []
        for _ in range(6):
            user = await make_user(db)
            r = await client.post(
                CHANGE_EMAIL,
                json={"new_email": "target@example.edu", "password": DEFAULT_PASSWORD},
                headers=auth_headers(settings, user),
            )
            answers.append(r.status_code)
        assert answers == [202] * 5 + [429]
        sent = await db.scalars(select(MailOutbox.id).where(MailOutbox.recipient == "target@example.edu"))
        assert len(list(sent)) == 5

    async def test_one_account_mails_a_few_addresses_an_hour(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        user = await make_user(db)
        headers = auth_headers(settings, user)
        answers = [
            (
                await client.post(
                    CHANGE_EMAIL,
                    json={"new_email": f"spam{n}@example.edu", "password": DEFAULT_PASSWORD},
                    headers=headers,
                )
            ).status_code
            for n in range(6)
        ]
        assert answers == [202] * 5 + [429]
