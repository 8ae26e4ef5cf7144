"""Real concurrent requests on separate connections that commit; every row created is deleted afterwards."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.fixtures.auth import STRONG_PASSWORD, BcryptWork, LiveClient, bearer, claims_of, live_client
from twosigma.auth.models import RefreshToken
from twosigma.config import Settings
from twosigma.users.models import User

REGISTER = "/api/v1/auth/register"
REFRESH = "/api/v1/auth/refresh"


class TestConcurrentRegistration:
    async def test_concurrent_sign_ups_with_one_email_make_exactly_one_account(
        self, live: LiveClient, db_engine: AsyncEngine
    ) -> None:
        address = live.email()
        spellings = [address, address.upper(), address.title(), address, address.upper()]
        responses = await asyncio.gather(
            *(
                live.client.post(REGISTER, json={"email": e, "password": STRONG_PASSWORD, "full_name": "Twin"})
                for e in spellings
            )
        )
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [201, 409, 409, 409, 409], [r.text for r in responses]
        assert all(r.json()["error"]["code"] == "email_taken" for r in responses if r.status_code == 409)
        async with db_engine.connect() as conn:
            count = await conn.scalar(select(func.count()).select_from(User).where(func.lower(User.email) == address))
        assert count == 1


class TestConcurrentRegistrationLimit:
    async def test_concurrent_sign_ups_past_the_limit_from_one_address_are_429_and_run_no_bcrypt(
        self, settings: Settings, db_engine: AsyncEngine, bcrypt_work: BcryptWork
    ) -> None:
        # The limit is checked before any query or hash, so sign-ups arriving together cannot all slip past it.
        limit = 5
        async for live in live_client(settings.model_copy(update={"registrations_per_minute": limit}), db_engine):
            emails = [live.email() for _ in range(limit + 7)]
            responses = await asyncio.gather(
                *(
                    live.client.post(REGISTER, json={"email": e, "password": STRONG_PASSWORD, "full_name": "Crowd"})
                    for e in emails
                )
            )
            statuses = sorted(r.status_code for r in responses)
            assert statuses == [201] * limit + [429] * 7, [r.text for r in responses]
            assert all(r.json()["error"]["code"] == "rate_limited" for r in responses if r.status_code == 429)
            async with db_engine.connect() as conn:
                created = await conn.scalar(select(func.count()).select_from(User).where(User.email.in_(emails)))
            assert created == limit
            assert bcrypt_work.take() == [settings.bcrypt_rounds] * limit


class TestConcurrentRefresh:
    async def test_one_refresh_wins_and_the_other_is_treated_as_reuse(
        self, live: LiveClient, db_engine: AsyncEngine
    ) -> None:
        registered = await live.client.post(
            REGISTER, json={"email": live.email(), "password": STRONG_PASSWORD, "full_name": "Racer"}
        )
        token = registered.json()["refresh_token"]

        first, second = await asyncio.gather(
            live.client.post(REFRESH, headers=bearer(token)), live.client.post(REFRESH, headers=bearer(token))
        )
        outcomes = sorted([first, second], key=lambda r: r.status_code)
        assert [r.status_code for r in outcomes] == [200, 401]
        assert outcomes[1].json()["error"]["code"] == "refresh_token_reused"

        async with db_engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(RefreshToken.jti, RefreshToken.revoked_at, RefreshToken.replaced_by).where(
                        RefreshToken.family_id == claims_of(token)["fam"]
                    )
                )
            ).all()
        # The original and exactly one successor; the reuse revoked both.
        assert len(rows) == 2
        assert all(revoked_at is not None for _, revoked_at, _ in rows)
        winner = outcomes[0].json()["refresh_token"]
        assert (await live.client.post(REFRESH, headers=bearer(winner))).status_code == 401
