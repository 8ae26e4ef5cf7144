"""The server-rendered pages mailed links open: plain forms with labels, in the browser's language, calling the same
services as the API; safe without cookies (they act only on what they carry)."""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.factories import DEFAULT_PASSWORD, auth_headers, make_user
from tests.fixtures.membership import Caller, Tenant
from tests.fixtures.smtp import SmtpServer, drain, link_in, token_in
from twosigma.config import Settings
from twosigma.kit.state import state_of
from twosigma.users.models import User

NEW_PASSWORD = "brand-new-pass-9"


async def mailed_token(app: FastAPI, client: httpx.AsyncClient, smtp: SmtpServer, user: User) -> str:
    await client.post("/api/v1/auth/password-reset/request", json={"email": user.email})
    await drain(app)
    return token_in(smtp.inbox.to(user.email)[-1])


def labelled_inputs(page: str) -> dict[str, str]:
    """Each visible input's name and the text of the label tied to it by `for`/`id`."""
    labels = dict(re.findall(r'<label for="([^"]+)">([^<]+)</label>', page))
    inputs = re.findall(r'<input id="([^"]+)" name="([^"]+)" type="(?!hidden)', page)
    return {name: labels[ident] for ident, name in inputs}


class TestResetPasswordPage:
    async def test_the_form_has_labels_carries_the_token_and_runs_no_script(
        self, app: FastAPI, client: httpx.AsyncClient, db: AsyncSession, smtp: SmtpServer
    ) -> None:
        user = await make_user(db)
        token = await mailed_token(app, client, smtp, user)
        link = link_in(smtp.inbox.to(user.email)[-1])
        page = await client.get(link.replace("http://localhost:8000", ""))
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert "form-action 'self'" in page.headers["content-security-policy"]
        assert "<script" not in page.text
        assert '<html lang="en">' in page.text
        assert f'name="token" value="{token}"' in page.text
        assert labelled_inputs(page.text) == {"new_password": "New password", "confirm_password": "New password, again"}

    async def test_posting_the_form_sets_the_password(
        self, app: FastAPI, client: httpx.AsyncClient, db: AsyncSession, smtp: SmtpServer
    ) -> None:
        user = await make_user(db)
        token = await mailed_token(app, client, smtp, user)
        form = {"token": token, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
        done = await client.post("/reset-password", data=form)
        assert done.status_code == 200, done.text
        assert "Your password has been changed" in done.text
        login = await client.post("/api/v1/auth/login", json={"email": user.email, "password": NEW_PASSWORD})
        assert login.status_code == 200
        again = await client.post("/reset-password", data=form)
        assert again.status_code == 422
        assert 'role="alert"' in again.text
        assert "used already" in again.text

    async def test_mismatched_and_weak_passwords_show_the_form_again(
        self, app: FastAPI, client: httpx.AsyncClient, db: AsyncSession, smtp: SmtpServer
    ) -> None:
        user = await make_user(db)
        token = await mailed_token(app, client, smtp, user)
        mismatch = await client.post(
            "/reset-password", data={"token": token, "new_password": NEW_PASSWORD, "confirm_password": "other-pass-1"}
        )
        weak = await client.post(
            "/reset-password", data={"token": token, "new_password": "short", "confirm_password": "short"}
        )
        assert (mismatch.status_code, weak.status_code) == (400, 400)
        assert "not the same" in mismatch.text
        assert "at least 8 characters" in weak.text
        assert f'value="{token}"' in weak.text
        # Neither used the token up.
        form = {"token": token, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
        assert (await client.post("/reset-password", data=form)).status_code == 200

    async def test_the_page_speaks_the_browsers_language(self, client: httpx.AsyncClient) -> None:
        page = await client.get(
            "/reset-password", params={"token": "t"}, headers={"Accept-Language": "fr;q=0.9, de-DE;q=0.8, en;q=0.5"}
        )
        assert '<html lang="de">' in page.text
        assert "Neues Passwort" in page.text

    async def test_a_link_without_a_token_says_so(self, client: httpx.AsyncClient) -> None:
        page = await client.get("/reset-password")
        assert page.status_code == 400
        assert "incomplete" in page.text

    async def test_a_configured_web_client_gets_the_visitor(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        state = state_of(app)
        state.settings = state.settings.model_copy(update={"web_base_url": "https://learn.example.edu"})
        page = await client.get("/reset-password", params={"token": "abc"})
        assert page.status_code == 303
        assert page.headers["location"] == "https://learn.example.edu/reset-password?token=abc"

    async def test_values_are_escaped(self, client: httpx.AsyncClient) -> None:
        page = await client.get("/reset-password", params={"token": '"><script>alert(1)</script>'})
        assert "<script>" not in page.text
        assert "&quot;&gt;&lt;script&gt;" in page.text


class TestVerifyEmailPage:
    async def test_opening_the_link_does_not_verify_pressing_the_button_does(
        self, app: FastAPI, client: httpx.AsyncClient, db: AsyncSession, smtp: SmtpServer, settings: Settings
    ) -> None:
        user = await make_user(db)
        await client.post("/api/v1/auth/verify-email/request", headers=auth_headers(settings, user))
        await drain(app)
        token = token_in(smtp.inbox.to(user.email)[-1])
        page = await client.get("/verify-email", params={"token": token})
        assert page.status_code == 200
        me = await client.get("/api/v1/users/me", headers=auth_headers(settings, user))
        assert me.json()["email_verified_at"] is None
        done = await client.post("/verify-email", data={"token": token}, headers={"Accept-Language": "de"})
        assert done.status_code == 200, done.text
        assert f"Ihre E-Mail-Adresse {user.email} ist bestätigt." in done.text
        me = await client.get("/api/v1/users/me", headers=auth_headers(settings, user))
        assert me.json()["email_verified_at"] is not None

    async def test_a_bad_token_is_a_page_not_a_json_error(self, client: httpx.AsyncClient) -> None:
        page = await client.post("/verify-email", data={"token": "made-up"})
        assert page.status_code == 422
        assert page.headers["content-type"].startswith("text/html")


class TestAcceptInvitationPage:
    async def test_the_invitee_signs_in_on_the_page_and_accepts(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        db: AsyncSession,
        smtp: SmtpServer,
        settings: Settings,
        a: Tenant,
    ) -> None:
        invitee = await make_user(db)
        response = await Caller(client, settings, a.admin).post(
            f"/universities/{a.university.id}/roles", {"email": invitee.email, "role": "INSTRUCTOR"}
        )
        assert response.status_code == 202
        await drain(app)
        token = token_in(smtp.inbox.to(invitee.email)[-1])
        page = await client.get("/invitations/accept", params={"token": token})
        assert labelled_inputs(page.text) == {"email": "Email address", "password": "Password"}

        wrong = await client.post(
            "/invitations/accept", data={"token": token, "email": invitee.email, "password": "wrong-pass-1"}
        )
        assert wrong.status_code == 401
        assert "The email or password is incorrect." in wrong.text

        done = await client.post(
            "/invitations/accept", data={"token": token, "email": invitee.email, "password": DEFAULT_PASSWORD}
        )
        assert done.status_code == 200, done.text
        assert a.university.name in done.text
        me = await client.get("/api/v1/users/me", headers=auth_headers(settings, invitee))
        assert {"university_id": a.university.id, "role": "INSTRUCTOR", "department_id": None} in me.json()["roles"]

    async def test_someone_else_with_the_link_is_not_found(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        db: AsyncSession,
        smtp: SmtpServer,
        settings: Settings,
        a: Tenant,
    ) -> None:
        response = await Caller(client, settings, a.admin).post(
            f"/universities/{a.university.id}/roles", {"email": "invited@example.edu", "role": "TA"}
        )
        token = response.json()["accept_token"]
        stranger = await make_user(db)
        page = await client.post(
            "/invitations/accept", data={"token": token, "email": stranger.email, "password": DEFAULT_PASSWORD}
        )
        assert page.status_code == 404
        assert "addressed to another email address" in page.text
