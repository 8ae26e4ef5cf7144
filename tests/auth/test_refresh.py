from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.auth import STRONG_PASSWORD, bearer, claims_of, new_email, register
from tests.fixtures.factories import access_token, make_user
from twosigma.auth.models import RefreshToken
from twosigma.auth.tokens import TokenType, encode_token
from twosigma.config import Settings
from twosigma.users.models import User

REFRESH = "/api/v1/auth/refresh"


async def family_rows(db: AsyncSession, token: str) -> list[RefreshToken]:
    db.expire_all()
    rows = await db.scalars(
        select(RefreshToken).where(RefreshToken.family_id == claims_of(token)["fam"]).order_by(RefreshToken.id)
    )
    return list(rows)


class TestRefreshRotation:
    async def test_a_refresh_token_buys_a_new_pair_in_the_same_family(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        first = await register(client)
        response = await client.post(REFRESH, headers=bearer(first["refresh_token"]))
        assert response.status_code == 200
        second = response.json()
        assert second["refresh_token"] != first["refresh_token"]
        assert claims_of(second["refresh_token"])["fam"] == claims_of(first["refresh_token"])["fam"]
        assert (await client.get("/api/v1/users/me", headers=bearer(second["access_token"]))).status_code == 200

    async def test_the_presented_token_is_marked_spent_and_points_to_its_successor(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        first = await register(client)
        second = (await client.post(REFRESH, headers=bearer(first["refresh_token"]))).json()
        old, new = await family_rows(db, first["refresh_token"])
        assert old.revoked_at is not None
        assert old.replaced_by == claims_of(second["refresh_token"])["jti"] == new.jti
        assert new.revoked_at is None

    async def test_rotation_can_continue_down_the_chain(self, client: httpx.AsyncClient) -> None:
        pair = await register(client)
        for _ in range(3):
            response = await client.post(REFRESH, headers=bearer(pair["refresh_token"]))
            assert response.status_code == 200
            pair = response.json()


class TestRefreshReuseDetection:
    async def test_reusing_a_spent_token_is_401_and_revokes_the_whole_family(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        first = await register(client)
        await client.post(REFRESH, headers=bearer(first["refresh_token"]))

        reuse = await client.post(REFRESH, headers=bearer(first["refresh_token"]))
        assert reuse.status_code == 401
        assert reuse.json()["error"]["code"] == "refresh_token_reused"
        assert reuse.headers["WWW-Authenticate"] == "Bearer"
        # The revocation was committed although the request answered 401.
        assert all(row.revoked_at is not None for row in await family_rows(db, first["refresh_token"]))

    async def test_the_successor_issued_before_the_reuse_no_longer_works(self, client: httpx.AsyncClient) -> None:
        first = await register(client)
        second = (await client.post(REFRESH, headers=bearer(first["refresh_token"]))).json()
        await client.post(REFRESH, headers=bearer(first["refresh_token"]))

        response = await client.post(REFRESH, headers=bearer(second["refresh_token"]))
        assert response.status_code == 401
        # Revoked with its family, never itself rotated away: refused as revoked.
        assert response.json()["error"]["code"] == "refresh_token_revoked"

    async def test_a_rotated_away_token_presented_again_after_the_family_was_revoked_still_reports_reuse(
        self, client: httpx.AsyncClient
    ) -> None:
        first = await register(client)
        await client.post(REFRESH, headers=bearer(first["refresh_token"]))
        await client.post(REFRESH, headers=bearer(first["refresh_token"]))

        again = await client.post(REFRESH, headers=bearer(first["refresh_token"]))
        assert again.status_code == 401
        assert again.json()["error"]["code"] == "refresh_token_reused"

    async def test_other_sign_ins_of_the_same_user_keep_working(self, client: httpx.AsyncClient) -> None:
        address = new_email()
        first = await register(client, email=address)
        other = (await client.post("/api/v1/auth/login", json={"email": address, "password": STRONG_PASSWORD})).json()
        await client.post(REFRESH, headers=bearer(first["refresh_token"]))
        await client.post(REFRESH, headers=bearer(first["refresh_token"]))  # reuse: revokes the first family only

        assert (await client.post(REFRESH, headers=bearer(other["refresh_token"]))).status_code == 200


class TestRefreshRefusals:
    async def test_missing_header_is_401(self, client: httpx.AsyncClient) -> None:
        response = await client.post(REFRESH)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "not_authenticated"

    async def test_an_access_token_is_not_a_refresh_token(self, client: httpx.AsyncClient) -> None:
        pair = await register(client)
        response = await client.post(REFRESH, headers=bearer(pair["access_token"]))
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_token"
        assert response.json()["error"]["message"] == "A refresh token is required."

    async def test_a_refresh_token_is_not_an_access_token(self, client: httpx.AsyncClient) -> None:
        pair = await register(client)
        response = await client.get("/api/v1/users/me", headers=bearer(pair["refresh_token"]))
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_token"
        assert response.json()["error"]["message"] == "An access token is required."

    async def test_a_validly_signed_token_that_was_never_issued_is_401(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        user = await make_user(db)
        forged, _ = encode_token(
            settings, user_id=user.id, token_type=TokenType.REFRESH, lifetime=timedelta(days=1), family_id="made-up"
        )
        response = await client.post(REFRESH, headers=bearer(forged))
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_token"

    async def test_an_expired_refresh_token_is_401(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        user = await make_user(db)
        expired, claims = encode_token(
            settings, user_id=user.id, token_type=TokenType.REFRESH, lifetime=timedelta(seconds=-5), family_id="f"
        )
        db.add(RefreshToken(jti=claims.jti, user_id=user.id, family_id="f", expires_at=claims.expires_at))
        await db.flush()
        response = await client.post(REFRESH, headers=bearer(expired))
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "token_expired"

    async def test_an_inactive_user_cannot_refresh(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        pair = await register(client)
        user = await db.get(User, int(claims_of(pair["refresh_token"])["sub"]))
        assert user is not None
        user.is_active = False
        await db.flush()
        response = await client.post(REFRESH, headers=bearer(pair["refresh_token"]))
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "account_inactive"

    async def test_a_tampered_refresh_token_is_401(self, client: httpx.AsyncClient) -> None:
        pair = await register(client)
        header, payload, signature = pair["refresh_token"].split(".")
        tampered = f"{header}.{payload}.{signature[:-2]}{'AA' if not signature.endswith('AA') else 'BB'}"
        response = await client.post(REFRESH, headers=bearer(tampered))
        assert response.status_code == 401

    async def test_access_tokens_from_factories_are_refused_too(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        user = await make_user(db)
        response = await client.post(REFRESH, headers=bearer(access_token(settings, user)))
        assert response.status_code == 401
