"""Password reset, email verification, email change and invitations, end to end through the outbox and a real
SMTP server: no enumeration, single-use and expiring tokens (a frozen clock), tokens voided by a password or
email change, the user's language, and links to a web client when one is configured."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.auth import BcryptWork, watch_bcrypt
from tests.fixtures.factories import DEFAULT_PASSWORD, auth_headers, make_user
from tests.fixtures.membership import Caller, Tenant
from tests.fixtures.smtp import SmtpServer, drain, html_of, link_in, text_of, token_in
from twosigma.auth.models import RefreshToken
from twosigma.config import Settings
from twosigma.kit.clock import get_now
from twosigma.kit.state import state_of
from twosigma.mail.models import MailOutbox
from twosigma.users.models import User

API = "/api/v1"
RESET_REQUEST = f"{API}/auth/password-reset/request"
RESET = f"{API}/auth/password-reset"
VERIFY_REQUEST = f"{API}/auth/verify-email/request"
VERIFY = f"{API}/auth/verify-email"
CHANGE_EMAIL = f"{API}/users/me/email"
NEW_PASSWORD = "brand-new-pass-9"


@pytest.fixture
def bcrypt_work(monkeypatch: pytest.MonkeyPatch) -> BcryptWork:
    return watch_bcrypt(monkeypatch)


class Clock:
    """The app's `now` (kit/clock.py), frozen and moved by hand."""

    def __init__(self, app: FastAPI) -> None:
        self.now = datetime.now(UTC)
        app.dependency_overrides[get_now] = lambda: self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock(app: FastAPI) -> Clock:
    return Clock(app)


async def mail_to(app: FastAPI, smtp: SmtpServer, address: str) -> list[str]:
    """Drain the outbox; the tokens of every mail `address` has received so far."""
    await drain(app)
    return [token_in(m) for m in smtp.inbox.to(address)]


async def reload(db: AsyncSession, user: User) -> User:
    found = await db.get(User, user.id, populate_existing=True)
    assert found is not None
    return found


class TestNoEnumeration:
    ROUNDS = 5

    async def test_known_and_unknown_emails_get_the_same_answer_and_the_same_bcrypt_work(
        self, app: FastAPI, client: httpx.AsyncClient, db: AsyncSession, bcrypt_work: BcryptWork
    ) -> None:
        state_of(app).settings = state_of(app).settings.model_copy(update={"bcrypt_rounds": self.ROUNDS})
        user = await make_user(db)
        bcrypt_work.take()
        known = await client.post(RESET_REQUEST, json={"email": user.email.upper()})
        known_work = bcrypt_work.take()
        unknown = await client.post(RESET_REQUEST, json={"email": "nobody-here@example.edu"})
        unknown_work = bcrypt_work.take()
        assert known.status_code == unknown.status_code == 202
        assert known.json() == unknown.json()
        assert known_work == unknown_work == [self.ROUNDS]
        # Only the account's owner gets a mail.
        recipients = set(await db.scalars(select(MailOutbox.recipient)))
        assert user.email in recipients
        assert "nobody-here@example.edu" not in recipients

    async def test_an_inactive_account_is_answered_like_an_unknown_email(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        user = await make_user(db, is_active=False)
        response = await client.post(RESET_REQUEST, json={"email": user.email})
        assert response.status_code == 202
        assert user.email not in set(await db.scalars(select(MailOutbox.recipient)))

    async def test_requests_are_limited_per_email_and_per_address(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        user = await make_user(db)
        answers = [(await client.post(RESET_REQUEST, json={"email": user.email})).status_code for _ in range(6)]
        assert answers == [202] * 5 + [429]
        others = [
            (await client.post(RESET_REQUEST, json={"email": f"other{n}@example.edu"})).status_code
            for n in range(settings.login_attempts_per_minute)
        ]
        assert others[-1] == 429  # the address's budget (10 a minute) is spent too


class TestPasswordReset:
    async def test_the_mailed_token_sets_the_password_and_signs_every_session_out(
        self, app: FastAPI, client: httpx.AsyncClient, db: AsyncSession, smtp: SmtpServer, settings: Settings
    ) -> None:
        user = await make_user(db)
        login = await client.post(f"{API}/auth/login", json={"email": user.email, "password": DEFAULT_PASSWORD})
        refresh_token = login.json()["refresh_token"]
        await client.post(RESET_REQUEST, json={"email": user.email})
        [token] = await mail_to(app, smtp, user.email)
        [message] = smtp.inbox.to(user.email)
        assert link_in(message) == f"{settings.public_base_url}/reset-password?token={token}"

        response = await client.post(RESET, json={"token": token, "new_password": NEW_PASSWORD})
        assert response.status_code == 204, response.text

        old = await client.post(f"{API}/auth/login", json={"email": user.email, "password": DEFAULT_PASSWORD})
        new = await client.post(f"{API}/auth/login", json={"email": user.email, "password": NEW_PASSWORD})
        assert (old.status_code, new.status_code) == (401, 200)
        refreshed = await client.post(f"{API}/auth/refresh", headers={"Authorization": f"Bearer {refresh_token}"})
        assert refreshed.json()["error"]["code"] == "refresh_token_revoked"
        # Every refresh token issued before the reset is revoked (the sign-in after it holds the only live one).
        revoked = list(await db.scalars(select(RefreshToken.revoked_at).where(RefreshToken.user_id == user.id)))
        assert len(revoked) == 2
        assert sum(at is None for at in revoked) == 1
        assert (await reload(db, user)).email_verified_at is not None  # the link proved the address

    async def test_a_token_is_single_use(
        self, app: FastAPI, client: httpx.AsyncClient, db: AsyncSession, smtp: SmtpServer
    ) -> None:
        user = await make_user(db)
        await client.post(RESET_REQUEST, json={"email": user.email})
        [token] = await mail_to(app, smtp, user.email)
        first = await client.post(RESET, json={"token": token, "new_password": NEW_PASSWORD})
        second = await client.post(RESET, json={"token": token, "new_password": "another-pass-7"})
        assert first.status_code == 204
        assert (second.status_code, second.json()["error"]["code"]) == (422, "invalid_account_token")

    async def test_a_token_expires_after_30_minutes(
        self, app: FastAPI, client: httpx.AsyncClient, db: AsyncSession, smtp: SmtpServer, clock: Clock
    ) -> None:
        user = await make_user(db)
        await client.post(RESET_REQUEST, json={"email": user.email})
        await client.post(RESET_REQUEST, json={"email": user.email})
        early, late = await mail_to(app, smtp, user.email)
        clock.advance(timedelta(minutes=29, seconds=59))
        assert (await client.post(RESET, json={"token": early, "new_password": NEW_PASSWORD})).status_code == 204
        # `late` was voided by the new password anyway; a fresh one past its 30 minutes is refused too.
        await client.post(RESET_REQUEST, json={"email": user.email})
        *_, fresh = await mail_to(app, smtp, user.email)
        clock.advance(timedelta(minutes=30))
        expired = await client.post(RESET, json={"token": fresh, "new_password": "another-pass-7"})
        assert expired.json()["error"]["code"] == "invalid_account_token"
        assert (await client.post(RESET, json={"token": late, "new_password": "x-pass-7777"})).status_code == 422

    async def test_a_password_change_voids_earlier_tokens(
        self, app: FastAPI, client: httpx.AsyncClient, db: AsyncSession, smtp: SmtpServer, settings: Settings
    ) -> None:
        user = await make_user(db)
        await client.post(RESET_REQUEST, json={"email": user.email})
        [token] = await mail_to(app, smtp, user.email)
        changed = await client.post(
            f"{API}/auth/change-password",
            json={"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
            headers=auth_headers(settings, user),
        )
        assert changed.status_code == 204
        response = await client.post(RESET, json={"token": token, "new_password": "another-pass-7"})
        assert response.json()["error"]["code"] == "invalid_account_token"

    async def test_an_unknown_token_and_a_weak_password_are_refused(self, client: httpx.AsyncClient) -> None:
        unknown = await client.post(RESET, json={"token": "made-up", "new_password": NEW_PASSWORD})
        assert unknown.json()["error"]["code"] == "invalid_account_token"
        weak = await client.post(RESET, json={"token": "made-up", "new_password": "short"})
        assert weak.json()["error"]["code"] == "validation_error"

    async def test_the_mail_speaks_the_users_language(
        self, app: FastAPI, client: httpx.AsyncClient, db: AsyncSession, smtp: SmtpServer
    ) -> None:
        user = await make_user(db, locale="de-AT", full_name="Grüße & <Co>")
        await client.post(RESET_REQUEST, json={"email": user.email})
        await drain(app)
        [message] = smtp.inbox.to(user.email)
        assert message["Subject"] == "Passwort zurücksetzen"
        assert "Hallo Grüße & <Co>," in text_of(message)
        assert "Hallo Grüße &amp; &lt;Co&gt;," in html_of(message)
        assert '<html lang="de">' in html_of(message)

    async def test_links_point_at_the_web_client_when_one_is_configured(
        self, app: FastAPI, client: httpx.AsyncClient, db: AsyncSession, smtp: SmtpServer
    ) -> None:
        state = state_of(app)
        state.settings = state.settings.model_copy(update={"web_base_url": "https://learn.example.edu/app/"})
        user = await make_user(db)
        await client.post(RESET_REQUEST, json={"email": user.email})
        [token] = await mail_to(app, smtp, user.email)
        assert link_in(smtp.inbox.to(user.email)[0]) == f"https://learn.example.edu/app/reset-password?token={token}"


class TestEmailVerification:
    async def test_a_signed_in_user_verifies_their_address_once(
        self, app: FastAPI, client: httpx.AsyncClient, db: AsyncSession, smtp: SmtpServer, settings: Settings
    ) -> None:
        user = await make_user(db)
        me = await client.get(f"{API}/users/me", headers=auth_headers(settings, user))
        assert me.json()["email_verified_at"] is None
        response = await client.post(VERIFY_REQUEST, headers=auth_headers(settings, user))
        assert response.status_code == 202
        [token] = await mail_to(app, smtp, user.email)
        assert "/verify-email?token=" in link_in(smtp.inbox.to(user.email)[0])

        verified = await client.post(VERIFY, json={"token": token})
        assert verified.status_code == 200, verified.text
        assert verified.json()["email"] == user.email
        me = await client.get(f"{API}/users/me", headers=auth_headers(settings, user))
        assert me.json()["email_verified_at"] is not None
        assert (await client.post(VERIFY, json={"token": token})).status_code == 422
        again = await client.post(VERIFY_REQUEST, headers=auth_headers(settings, user))
        assert (again.status_code, again.json()["error"]["code"]) == (409, "email_already_verified")

    async def test_a_verification_token_expires_after_7_days(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        db: AsyncSession,
        smtp: SmtpServer,
        settings: Settings,
        clock: Clock,
    ) -> None:
        user = await make_user(db)
        await client.post(VERIFY_REQUEST, headers=auth_headers(settings, user))
        [token] = await mail_to(app, smtp, user.email)
        clock.advance(timedelta(days=7))
        assert (await client.post(VERIFY, json={"token": token})).json()["error"]["code"] == "invalid_account_token"

    async def test_only_signed_in_users_ask(self, client: httpx.AsyncClient) -> None:
        assert (await client.post(VERIFY_REQUEST)).status_code == 401


class TestEmailChange:
    async def test_the_address_changes_only_when_the_new_one_confirms(
        self, app: FastAPI, client: httpx.AsyncClient, db: AsyncSession, smtp: SmtpServer, settings: Settings
    ) -> None:
        user = await make_user(db)
        old_email = user.email
        response = await client.post(
            CHANGE_EMAIL,
            json={"new_email": "Moved.Here@Example.edu", "password": DEFAULT_PASSWORD},
            headers=auth_headers(settings, user),
        )
        assert response.status_code == 202, response.text
        assert (await reload(db, user)).email == old_email
        [token] = await mail_to(app, smtp, "moved.here@example.edu")
        assert smtp.inbox.to(old_email) == []

        confirmed = await client.post(VERIFY, json={"token": token})
        assert confirmed.status_code == 200, confirmed.text
        user = await reload(db, user)
        assert user.email == "moved.here@example.edu"
        assert user.email_verified_at is not None
        # The former address hears of it: a notice without any link that names the new address and says what to do.
        await drain(app)
        [notice] = smtp.inbox.to(old_email)
        assert notice["Subject"] == "Your account's email address was changed"
        assert "moved.here@example.edu" in text_of(notice)
        assert "contact your university's administrators" in text_of(notice)
        assert "http" not in text_of(notice)
        assert "<a " not in html_of(notice)
        login = await client.post(
            f"{API}/auth/login", json={"email": "moved.here@example.edu", "password": DEFAULT_PASSWORD}
        )
        assert login.status_code == 200
        assert (await client.post(VERIFY, json={"token": token})).status_code == 422

    async def test_a_wrong_password_a_taken_address_and_the_same_address_are_refused(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        user = await make_user(db)
        other = await make_user(db)
        headers = auth_headers(settings, user)
        wrong = await client.post(
            CHANGE_EMAIL, json={"new_email": "free@example.edu", "password": "wrong-pass-1"}, headers=headers
        )
        taken = await client.post(
            CHANGE_EMAIL, json={"new_email": other.email, "password": DEFAULT_PASSWORD}, headers=headers
        )
        same = await client.post(
            CHANGE_EMAIL, json={"new_email": user.email, "password": DEFAULT_PASSWORD}, headers=headers
        )
        assert wrong.json()["error"]["code"] == "invalid_current_password"
        assert (taken.status_code, taken.json()["error"]["code"]) == (409, "email_taken")
        assert same.json()["error"]["code"] == "same_email"

    async def test_an_address_taken_before_confirmation_is_409_and_the_link_stays_usable(
        self, app: FastAPI, client: httpx.AsyncClient, db: AsyncSession, smtp: SmtpServer, settings: Settings
    ) -> None:
        user = await make_user(db)
        await client.post(
            CHANGE_EMAIL,
            json={"new_email": "contested@example.edu", "password": DEFAULT_PASSWORD},
            headers=auth_headers(settings, user),
        )
        [token] = await mail_to(app, smtp, "contested@example.edu")
        await make_user(db, email="contested@example.edu")
        response = await client.post(VERIFY, json={"token": token})
        assert (response.status_code, response.json()["error"]["code"]) == (409, "email_taken")


class TestInvitationMail:
    async def test_an_invitation_is_mailed_with_its_accept_link_in_the_invitees_language(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        db: AsyncSession,
        smtp: SmtpServer,
        settings: Settings,
        a: Tenant,
    ) -> None:
        invitee = await make_user(db, locale="de")
        response = await Caller(client, settings, a.admin).post(
            f"/universities/{a.university.id}/roles", {"email": invitee.email, "role": "INSTRUCTOR"}
        )
        assert response.status_code == 202, response.text
        await drain(app)
        [message] = smtp.inbox.to(invitee.email)
        assert link_in(message) == response.json()["accept_url"]
        assert "/invitations/accept?token=" in link_in(message)
        assert message["Subject"] == f"Einladung zu {a.university.name}"
        assert "INSTRUCTOR" in text_of(message)

    async def test_an_address_without_an_account_gets_the_inviters_language(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        db: AsyncSession,
        smtp: SmtpServer,
        settings: Settings,
        a: Tenant,
    ) -> None:
        response = await Caller(client, settings, a.admin).post(
            f"/offerings/{a.offering.id}/enrollments", {"email": "newcomer@example.edu", "status": "ACTIVE"}
        )
        assert response.status_code == 202, response.text
        await drain(app)
        [message] = smtp.inbox.to("newcomer@example.edu")
        assert message["Subject"] == f"You are invited to {a.university.name}"
        assert "a course" in text_of(message)
