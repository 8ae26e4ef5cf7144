from __future__ import annotations

import bcrypt
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.auth import STRONG_PASSWORD, BcryptWork, Configure, bearer, new_email, register
from tests.fixtures.factories import DEFAULT_PASSWORD, make_user
from twosigma.config import Settings

LOGIN = "/api/v1/auth/login"
TOKEN = "/api/v1/auth/token"


def client_from(app: FastAPI, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://test")


class TestLogin:
    async def test_right_password_returns_a_working_token_pair(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        user = await make_user(db)
        response = await client.post(LOGIN, json={"email": user.email, "password": DEFAULT_PASSWORD})
        assert response.status_code == 200
        pair = response.json()
        assert pair["token_type"] == "bearer"
        me = await client.get("/api/v1/users/me", headers=bearer(pair["access_token"]))
        assert me.json()["id"] == user.id

    async def test_email_is_matched_case_insensitively(self, client: httpx.AsyncClient) -> None:
        address = new_email()
        await register(client, email=address)
        response = await client.post(LOGIN, json={"email": f"  {address.upper()} ", "password": STRONG_PASSWORD})
        assert response.status_code == 200

    async def test_wrong_password_and_unknown_email_get_the_same_401(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        user = await make_user(db)
        wrong = await client.post(LOGIN, json={"email": user.email, "password": "not-the-password-1"})
        unknown = await client.post(LOGIN, json={"email": new_email(), "password": DEFAULT_PASSWORD})
        assert wrong.status_code == unknown.status_code == 401
        assert wrong.json() == unknown.json()
        assert wrong.json()["error"]["code"] == "invalid_credentials"

    async def test_inactive_account_with_the_right_password_is_403(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        user = await make_user(db, is_active=False)
        response = await client.post(LOGIN, json={"email": user.email, "password": DEFAULT_PASSWORD})
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "account_inactive"

    async def test_inactive_account_with_a_wrong_password_is_just_401(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        user = await make_user(db, is_active=False)
        response = await client.post(LOGIN, json={"email": user.email, "password": "wrong-password-1"})
        assert response.status_code == 401

    async def test_missing_password_is_a_validation_error(self, client: httpx.AsyncClient) -> None:
        response = await client.post(LOGIN, json={"email": new_email()})
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "validation_error"


class TestLoginRateLimit:
    async def test_too_many_attempts_for_one_email_get_429_with_retry_after(
        self, app: FastAPI, db: AsyncSession, settings: Settings
    ) -> None:
        user = await make_user(db)
        for attempt in range(settings.login_attempts_per_minute):
            # Each attempt from its own address: only the per-email limit can trip.
            async with client_from(app, f"10.1.0.{attempt + 1}") as ac:
                response = await ac.post(LOGIN, json={"email": user.email, "password": "wrong-password-1"})
            assert response.status_code == 401
        async with client_from(app, "10.1.1.1") as ac:
            response = await ac.post(LOGIN, json={"email": user.email.upper(), "password": DEFAULT_PASSWORD})
        assert response.status_code == 429
        assert response.json()["error"]["code"] == "rate_limited"
        assert int(response.headers["Retry-After"]) >= 1

    async def test_too_many_attempts_from_one_address_get_429(self, app: FastAPI, settings: Settings) -> None:
        async with client_from(app, "10.2.0.1") as ac:
            for _ in range(settings.login_attempts_per_minute):
                response = await ac.post(LOGIN, json={"email": new_email(), "password": "wrong-password-1"})
                assert response.status_code == 401
            response = await ac.post(LOGIN, json={"email": new_email(), "password": "wrong-password-1"})
        assert response.status_code == 429
        assert "Retry-After" in response.headers

    async def test_other_addresses_and_emails_are_not_affected(self, app: FastAPI, settings: Settings) -> None:
        async with client_from(app, "10.3.0.1") as ac:
            for _ in range(settings.login_attempts_per_minute + 1):
                await ac.post(LOGIN, json={"email": new_email(), "password": "wrong-password-1"})
        async with client_from(app, "10.3.0.2") as ac:
            response = await ac.post(LOGIN, json={"email": new_email(), "password": "wrong-password-1"})
        assert response.status_code == 401

    async def test_the_oauth2_form_shares_the_limit(self, app: FastAPI, settings: Settings) -> None:
        async with client_from(app, "10.4.0.1") as ac:
            for _ in range(settings.login_attempts_per_minute):
                await ac.post(LOGIN, json={"email": new_email(), "password": "wrong-password-1"})
            response = await ac.post(TOKEN, data={"username": new_email(), "password": "wrong-password-1"})
        assert response.status_code == 429


class TestOAuth2TokenForm:
    async def test_username_and_password_form_returns_a_token_pair(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        user = await make_user(db)
        response = await client.post(TOKEN, data={"username": user.email, "password": DEFAULT_PASSWORD})
        assert response.status_code == 200
        assert set(response.json()) == {"access_token", "refresh_token", "token_type", "expires_in"}

    async def test_wrong_password_is_401(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        user = await make_user(db)
        response = await client.post(TOKEN, data={"username": user.email, "password": "nope-nope-1"})
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_credentials"

    async def test_inactive_account_is_403(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        user = await make_user(db, is_active=False)
        response = await client.post(TOKEN, data={"username": user.email, "password": DEFAULT_PASSWORD})
        assert response.status_code == 403

    @pytest.mark.parametrize("form", [{"username": "a@example.edu"}, {"password": "x"}, {}])
    async def test_an_incomplete_form_is_a_validation_error(
        self, client: httpx.AsyncClient, form: dict[str, str]
    ) -> None:
        response = await client.post(TOKEN, data=form)
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "validation_error"


def hash_at(cost: int, password: str = DEFAULT_PASSWORD) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=cost)).decode()


class TestEqualWork:
    """Every failed sign-in does the same bcrypt work, so its duration does not say which emails have accounts.
    The app runs at cost 5 here (not the tests' 4), so a dummy hash of any other cost shows."""

    ROUNDS = 5

    async def test_an_unknown_email_checks_one_hash_at_the_configured_cost(
        self, client: httpx.AsyncClient, configure: Configure, bcrypt_work: BcryptWork
    ) -> None:
        configure(bcrypt_rounds=self.ROUNDS)
        response = await client.post(LOGIN, json={"email": new_email(), "password": "wrong-password-1"})
        assert response.status_code == 401
        assert bcrypt_work.take() == [self.ROUNDS]

    async def test_a_wrong_password_for_a_known_email_does_the_same_work_as_an_unknown_email(
        self, client: httpx.AsyncClient, db: AsyncSession, configure: Configure, bcrypt_work: BcryptWork
    ) -> None:
        configure(bcrypt_rounds=self.ROUNDS)
        user = await make_user(db, password_hash=hash_at(self.ROUNDS))
        bcrypt_work.take()
        known = await client.post(LOGIN, json={"email": user.email, "password": "wrong-password-1"})
        known_work = bcrypt_work.take()
        unknown = await client.post(LOGIN, json={"email": new_email(), "password": "wrong-password-1"})
        assert known.json() == unknown.json()
        assert known_work == bcrypt_work.take() == [self.ROUNDS]

    async def test_an_inactive_account_does_the_same_work_as_an_unknown_email(
        self, client: httpx.AsyncClient, db: AsyncSession, configure: Configure, bcrypt_work: BcryptWork
    ) -> None:
        configure(bcrypt_rounds=self.ROUNDS)
        user = await make_user(db, password_hash=hash_at(self.ROUNDS), is_active=False)
        bcrypt_work.take()
        inactive = await client.post(LOGIN, json={"email": user.email, "password": DEFAULT_PASSWORD})
        inactive_work = bcrypt_work.take()
        await client.post(LOGIN, json={"email": new_email(), "password": DEFAULT_PASSWORD})
        assert inactive.status_code == 403
        assert inactive_work == bcrypt_work.take() == [self.ROUNDS]

    @pytest.mark.parametrize("stored", ["!", "", "x"])
    async def test_an_account_without_a_usable_password_does_the_same_work(
        self, client: httpx.AsyncClient, db: AsyncSession, configure: Configure, bcrypt_work: BcryptWork, stored: str
    ) -> None:
        configure(bcrypt_rounds=self.ROUNDS)
        user = await make_user(db, password_hash=stored)
        response = await client.post(LOGIN, json={"email": user.email, "password": stored or "anything-1"})
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_credentials"
        assert bcrypt_work.take() == [self.ROUNDS]

    async def test_the_first_unknown_email_of_a_cost_does_the_work_of_every_later_one(
        self, client: httpx.AsyncClient, configure: Configure, bcrypt_work: BcryptWork
    ) -> None:
        # A cost no other test uses: the first attempt makes the dummy hash (one computation at that cost) instead
        # of checking against it, so it costs what the later ones do.
        configure(bcrypt_rounds=7)
        for _ in range(3):
            await client.post(LOGIN, json={"email": new_email(), "password": "wrong-password-1"})
        assert bcrypt_work.take() == [7, 7, 7]

    async def test_a_hash_of_an_older_cost_is_replaced_at_the_next_sign_in(
        self, client: httpx.AsyncClient, db: AsyncSession, configure: Configure
    ) -> None:
        configure(bcrypt_rounds=self.ROUNDS)
        user = await make_user(db, password_hash=hash_at(4))
        assert (await client.post(LOGIN, json={"email": user.email, "password": DEFAULT_PASSWORD})).status_code == 200
        await db.refresh(user)
        assert user.password_hash.startswith(f"$2b$0{self.ROUNDS}$")
        assert (await client.post(LOGIN, json={"email": user.email, "password": DEFAULT_PASSWORD})).status_code == 200
