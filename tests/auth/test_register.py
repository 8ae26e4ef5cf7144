from __future__ import annotations

from datetime import date, timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.auth import (
    STRONG_PASSWORD,
    BcryptWork,
    bearer,
    claims_of,
    client_at,
    make_subject,
    new_email,
    register,
)
from tests.fixtures.factories import make_user
from twosigma.config import Settings
from twosigma.users.models import User, UserProfile, UserSubjectPreference

REGISTER = "/api/v1/auth/register"
ONBOARD = "/api/v1/auth/register-with-onboarding"


def body(**overrides: object) -> dict[str, object]:
    return {"email": new_email(), "password": STRONG_PASSWORD, "full_name": "Ada Learner", **overrides}


class TestCheckEmail:
    async def test_unused_email_is_available(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/api/v1/auth/check-email", json={"email": new_email()})
        assert response.status_code == 200
        assert response.json() == {"available": True}

    async def test_registered_email_is_taken_whatever_its_case(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        user = await make_user(db)
        response = await client.post("/api/v1/auth/check-email", json={"email": user.email.upper()})
        assert response.json() == {"available": False}

    async def test_malformed_email_is_a_validation_error(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/api/v1/auth/check-email", json={"email": "not-an-email"})
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "validation_error"


class TestRegister:
    async def test_returns_a_token_pair_that_signs_the_user_in(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        response = await client.post(REGISTER, json=body())
        assert response.status_code == 201
        pair = response.json()
        assert set(pair) == {"access_token", "refresh_token", "token_type", "expires_in"}
        assert pair["token_type"] == "bearer"
        assert pair["expires_in"] == settings.access_token_minutes * 60
        assert claims_of(pair["refresh_token"])["fam"]
        me = await client.get("/api/v1/users/me", headers=bearer(pair["access_token"]))
        assert me.status_code == 200
        assert me.json()["full_name"] == "Ada Learner"

    async def test_stores_the_email_lowercased_with_defaults(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        address = new_email()
        await register(client, email=address.upper())
        user = (await db.scalars(select(User).where(User.email == address))).one()
        assert (user.locale, user.time_zone, user.is_active) == ("en", "UTC", True)
        assert user.password_hash.startswith("$2")

    async def test_accepts_locale_and_time_zone(self, client: httpx.AsyncClient) -> None:
        pair = await register(client, locale="pt-BR", time_zone="America/Sao_Paulo")
        me = (await client.get("/api/v1/users/me", headers=bearer(pair["access_token"]))).json()
        assert (me["locale"], me["time_zone"]) == ("pt-BR", "America/Sao_Paulo")

    async def test_an_email_taken_in_another_case_is_a_conflict(self, client: httpx.AsyncClient) -> None:
        address = new_email()
        await register(client, email=address)
        response = await client.post(REGISTER, json=body(email=address.upper()))
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "email_taken"

    async def test_a_password_without_a_digit_is_refused_with_a_clear_message(self, client: httpx.AsyncClient) -> None:
        response = await client.post(REGISTER, json=body(password="onlyletters"))
        assert response.status_code == 422
        error = response.json()["error"]
        assert error["code"] == "validation_error"
        assert "one letter and one digit" in error["details"][0]["msg"]

    async def test_a_short_password_is_refused(self, client: httpx.AsyncClient) -> None:
        response = await client.post(REGISTER, json=body(password="ab12"))
        assert response.status_code == 422
        assert "at least 8" in response.json()["error"]["details"][0]["msg"]

    async def test_a_password_over_72_bytes_is_refused(self, client: httpx.AsyncClient) -> None:
        response = await client.post(REGISTER, json=body(password="é1" * 30))
        assert response.status_code == 422

    async def test_an_unknown_time_zone_is_refused(self, client: httpx.AsyncClient) -> None:
        response = await client.post(REGISTER, json=body(time_zone="Mars/Olympus_Mons"))
        assert response.status_code == 422
        assert "IANA" in response.json()["error"]["details"][0]["msg"]

    async def test_a_malformed_locale_is_refused(self, client: httpx.AsyncClient) -> None:
        response = await client.post(REGISTER, json=body(locale="english please"))
        assert response.status_code == 422

    async def test_a_malformed_email_is_refused(self, client: httpx.AsyncClient) -> None:
        response = await client.post(REGISTER, json=body(email="nobody"))
        assert response.status_code == 422

    async def test_unknown_fields_are_refused(self, client: httpx.AsyncClient) -> None:
        response = await client.post(REGISTER, json=body(is_active=False))
        assert response.status_code == 422

    async def test_the_password_is_never_echoed_in_a_validation_error(self, client: httpx.AsyncClient) -> None:
        response = await client.post(REGISTER, json=body(password="secretsauce"))
        assert "secretsauce" not in response.text


class TestRegisterWithOnboarding:
    async def test_creates_user_profile_and_preferences_at_once(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        first, second = await make_subject(db), await make_subject(db)
        payload = body(
            profile={
                "date_of_birth": "2001-04-05",
                "learning_goal": "SKILL_DEVELOPMENT",
                "study_level": "UNDERGRADUATE",
                "grade": "SOPHOMORE",
            },
            subject_preferences=[second.id, first.id, second.id],
        )
        response = await client.post(ONBOARD, json=payload)
        assert response.status_code == 201, response.text
        result = response.json()
        assert set(result) == {"user", "profile", "subject_preferences", "tokens"}
        assert result["user"]["email"] == payload["email"]
        assert "password_hash" not in result["user"]
        assert result["profile"] == payload["profile"]
        assert result["subject_preferences"] == sorted([first.id, second.id])
        assert result["tokens"]["token_type"] == "bearer"
        stored = await db.scalars(
            select(UserSubjectPreference.subject_id).where(UserSubjectPreference.user_id == result["user"]["id"])
        )
        assert sorted(stored) == sorted([first.id, second.id])

    async def test_unknown_subjects_are_named_and_nothing_is_written(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        known = await make_subject(db)
        payload = body(profile={}, subject_preferences=[known.id, 999_999_001, 999_999_002])
        response = await client.post(ONBOARD, json=payload)
        assert response.status_code == 422
        error = response.json()["error"]
        assert error["code"] == "unknown_subjects"
        assert error["details"] == {"unknown_subject_ids": [999_999_001, 999_999_002]}
        assert await db.scalar(select(func.count()).select_from(User).where(User.email == payload["email"])) == 0

    async def test_a_birth_date_in_the_future_is_refused(self, client: httpx.AsyncClient) -> None:
        tomorrow = (date.today() + timedelta(days=2)).isoformat()
        response = await client.post(ONBOARD, json=body(profile={"date_of_birth": tomorrow}))
        assert response.status_code == 422
        assert "future" in response.json()["error"]["details"][0]["msg"]

    async def test_an_unknown_grade_is_refused(self, client: httpx.AsyncClient) -> None:
        response = await client.post(ONBOARD, json=body(profile={"grade": "KINDERGARTEN"}))
        assert response.status_code == 422

    async def test_a_taken_email_writes_no_profile(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        user = await make_user(db)
        response = await client.post(ONBOARD, json=body(email=user.email, profile={"grade": "JUNIOR"}))
        assert response.status_code == 409
        profiles = await db.scalar(select(func.count()).select_from(UserProfile).where(UserProfile.user_id == user.id))
        assert profiles == 0

    async def test_profile_is_required(self, client: httpx.AsyncClient) -> None:
        response = await client.post(ONBOARD, json=body())
        assert response.status_code == 422


class TestRegistrationRateLimit:
    """Sign-ups are limited per client address (TWOSIGMA_REGISTRATIONS_PER_MINUTE, 20): a taken email answers 409,
    so without a limit sign-up would tell which emails have accounts as fast as anyone can ask."""

    async def test_the_sign_up_past_the_limit_from_one_address_is_429_with_retry_after(
        self, app: FastAPI, settings: Settings
    ) -> None:
        async with client_at(app, "10.20.0.1") as ac:
            for _ in range(settings.registrations_per_minute):
                assert (await ac.post(REGISTER, json=body())).status_code == 201
            response = await ac.post(REGISTER, json=body())
        assert response.status_code == 429
        assert response.json()["error"]["code"] == "rate_limited"
        assert set(response.json()["error"]) == {"code", "message", "details"}
        assert int(response.headers["Retry-After"]) >= 1

    async def test_taken_emails_count_like_any_other_attempt_and_get_429_past_the_limit(
        self, app: FastAPI, db: AsyncSession, settings: Settings
    ) -> None:
        taken = (await make_user(db)).email
        async with client_at(app, "10.20.0.2") as ac:
            for _ in range(settings.registrations_per_minute):
                assert (await ac.post(REGISTER, json=body(email=taken))).status_code == 409
            blocked_taken = await ac.post(REGISTER, json=body(email=taken))
            blocked_free = await ac.post(REGISTER, json=body())
        assert blocked_taken.status_code == blocked_free.status_code == 429
        assert blocked_taken.json() == blocked_free.json()

    async def test_a_sign_up_past_the_limit_runs_no_bcrypt_and_creates_no_user(
        self, app: FastAPI, db: AsyncSession, settings: Settings, bcrypt_work: BcryptWork
    ) -> None:
        async with client_at(app, "10.20.0.3") as ac:
            for _ in range(settings.registrations_per_minute):
                await ac.post(REGISTER, json=body())
            bcrypt_work.take()
            late = body()
            assert (await ac.post(REGISTER, json=late)).status_code == 429
        assert bcrypt_work.take() == []
        assert await db.scalar(select(func.count()).select_from(User).where(User.email == late["email"])) == 0

    async def test_onboarding_sign_ups_share_the_budget(self, app: FastAPI, settings: Settings) -> None:
        async with client_at(app, "10.20.0.4") as ac:
            for _ in range(settings.registrations_per_minute):
                await ac.post(REGISTER, json=body())
            response = await ac.post(ONBOARD, json=body(profile={}))
        assert response.status_code == 429
        assert "Retry-After" in response.headers

    async def test_another_address_still_signs_up(self, app: FastAPI, settings: Settings) -> None:
        async with client_at(app, "10.20.0.5") as busy:
            for _ in range(settings.registrations_per_minute + 1):
                await busy.post(REGISTER, json=body())
        async with client_at(app, "10.20.0.6") as other:
            assert (await other.post(REGISTER, json=body())).status_code == 201
            assert (await other.post(ONBOARD, json=body(profile={}))).status_code == 201

    def test_the_default_lets_a_campus_behind_one_address_sign_up_twenty_a_minute(self) -> None:
        assert Settings(_env_file=None).registrations_per_minute == 20  # type: ignore[call-arg]
