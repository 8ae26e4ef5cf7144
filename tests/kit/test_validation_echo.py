"""A 422 never echoes what was sent: not in its message, not anywhere in its body (the README's promise)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, field_validator
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.auth import STRONG_PASSWORD, new_email
from tests.fixtures.factories import auth_headers, make_user
from twosigma.config import Settings

API = "/api/v1"


def sign_up(**overrides: Any) -> dict[str, Any]:
    return {"email": new_email(), "password": STRONG_PASSWORD, "full_name": "Ada Learner", **overrides}


def assert_not_echoed(response: httpx.Response, *submitted: str) -> None:
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"
    for value in submitted:
        assert value not in response.text


class TestRealFieldsAreNotEchoed:
    async def test_an_unknown_time_zone_at_sign_up(self, client: httpx.AsyncClient) -> None:
        response = await client.post(f"{API}/auth/register", json=sign_up(time_zone="Mars/Olympus"))
        assert_not_echoed(response, "Mars/Olympus", "Olympus")
        assert "IANA time zone" in response.json()["error"]["details"][0]["msg"]

    async def test_an_unknown_time_zone_on_the_own_profile(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        user = await make_user(db)
        response = await client.patch(
            f"{API}/users/me", headers=auth_headers(settings, user), json={"time_zone": "Europe/Atlantis"}
        )
        assert_not_echoed(response, "Europe/Atlantis", "Atlantis")

    @pytest.mark.parametrize(
        ("email", "fragment"),
        [
            ("ada@[10.20.30.999]", "10.20.30.999"),  # email-validator quotes the address literal it refused
            ("ada@exa$mple.edu", "'$'"),  # ... and the characters it refused
            ("ada@exa_mple.edu", "'_'"),
        ],
    )
    async def test_an_invalid_email(self, client: httpx.AsyncClient, email: str, fragment: str) -> None:
        for path, body in (
            (f"{API}/auth/check-email", {"email": email}),
            (f"{API}/auth/register", sign_up(email=email)),
        ):
            response = await client.post(path, json=body)
            assert_not_echoed(response, email, fragment)
            assert response.json()["error"]["details"][0]["msg"].startswith("value is not a valid email address")

    async def test_an_unknown_enum_member(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            f"{API}/auth/register-with-onboarding", json=sign_up(profile={"grade": "KINDERGARTEN_SECRET"})
        )
        assert_not_echoed(response, "KINDERGARTEN_SECRET")

    async def test_a_password_that_breaks_the_policy(self, client: httpx.AsyncClient) -> None:
        response = await client.post(f"{API}/auth/register", json=sign_up(password="onlyletterssecret"))
        assert_not_echoed(response, "onlyletterssecret")


class Echoing(BaseModel):
    code: str

    @field_validator("code")
    @classmethod
    def _refuse(cls, value: str) -> str:
        raise ValueError(f"{value!r} is not a code we know")


class TestTheHandlerDropsAnEchoAnyValidatorMakes:
    @pytest.fixture
    async def echo_client(self, fresh_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
        @fresh_app.post("/_test/echo")
        async def echo(payload: Echoing) -> dict[str, str]:
            return {"code": payload.code}

        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fresh_app), base_url="http://test") as ac:
            yield ac

    async def test_a_validator_message_with_the_value_is_replaced(self, echo_client: httpx.AsyncClient) -> None:
        response = await echo_client.post("/_test/echo", json={"code": "hunter2-secret"})
        assert_not_echoed(response, "hunter2-secret")
        assert response.json()["error"]["details"][0]["msg"] == "The submitted value is not valid."
        assert response.json()["error"]["details"][0]["loc"] == ["body", "code"]
