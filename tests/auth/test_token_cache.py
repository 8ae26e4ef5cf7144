"""decode_token's cache of verified tokens (auth/tokens.py _VERIFIED): a hit skips the signature check but never
the expiry, the type or the key; what fails verification is never cached; the cache stays bounded."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.auth import bearer
from tests.fixtures.factories import make_user
from twosigma.auth import tokens
from twosigma.auth.tokens import TokenClaims, TokenType, decode_token, encode_token
from twosigma.config import Settings
from twosigma.kit.errors import Unauthorized

ME = "/api/v1/users/me"
LIFETIME = timedelta(minutes=10)


@pytest.fixture(autouse=True)
def verified(monkeypatch: pytest.MonkeyPatch) -> dict[tuple[str, str, TokenType], TokenClaims]:
    """An empty cache of this test's own (the real one is process-wide)."""
    cache: dict[tuple[str, str, TokenType], TokenClaims] = {}
    monkeypatch.setattr(tokens, "_VERIFIED", cache)
    return cache


@pytest.fixture
def jwt_decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every token PyJWT is asked to verify."""
    calls: list[str] = []
    decode = jwt.decode

    def counting(token: str, *args: object, **kwargs: object) -> object:
        calls.append(token)
        return decode(token, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(jwt, "decode", counting)
    return calls


def token_for(settings: Settings, user_id: int = 1, kind: TokenType = TokenType.ACCESS) -> str:
    token, _ = encode_token(settings, user_id=user_id, token_type=kind, lifetime=LIFETIME)
    return token


def refused(settings: Settings, token: str, kind: TokenType = TokenType.ACCESS) -> str:
    """The error code decode_token refuses `token` with."""
    with pytest.raises(Unauthorized) as error:
        decode_token(settings, token, kind)
    return error.value.error_code


def expire(
    verified: dict[tuple[str, str, TokenType], TokenClaims], settings: Settings, token: str, kind: TokenType
) -> None:
    """Make the cached entry of `token` one whose expiry has passed."""
    key = (settings.secret_key.get_secret_value(), token, kind)
    past = datetime.now(UTC) - timedelta(seconds=1)
    verified[key] = dataclasses.replace(verified[key], expires_at=past)


def tamper(token: str) -> str:
    header, payload, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    return f"{header}.{payload}.{flipped}"


class TestHits:
    def test_a_verified_token_is_served_from_the_cache(
        self,
        settings: Settings,
        verified: dict[tuple[str, str, TokenType], TokenClaims],
        jwt_decodes: list[str],
    ) -> None:
        token = token_for(settings, user_id=7)
        first = decode_token(settings, token, TokenType.ACCESS)
        second = decode_token(settings, token, TokenType.ACCESS)
        assert second == first
        assert first.user_id == 7
        assert jwt_decodes == [token]  # verified once
        assert list(verified) == [(settings.secret_key.get_secret_value(), token, TokenType.ACCESS)]


class TestExpiry:
    def test_a_cached_token_whose_expiry_has_passed_is_refused_as_expired(
        self, settings: Settings, verified: dict[tuple[str, str, TokenType], TokenClaims], jwt_decodes: list[str]
    ) -> None:
        token = token_for(settings)
        decode_token(settings, token, TokenType.ACCESS)
        expire(verified, settings, token, TokenType.ACCESS)
        assert refused(settings, token) == "token_expired"
        assert jwt_decodes == [token]  # refused from the cache entry itself
        assert verified == {}  # and the entry is gone

    def test_a_token_that_expires_exactly_now_is_expired(
        self, settings: Settings, verified: dict[tuple[str, str, TokenType], TokenClaims]
    ) -> None:
        token = token_for(settings)
        decode_token(settings, token, TokenType.ACCESS)
        key = (settings.secret_key.get_secret_value(), token, TokenType.ACCESS)
        verified[key] = dataclasses.replace(verified[key], expires_at=datetime.now(UTC))
        assert refused(settings, token) == "token_expired"

    async def test_over_http_a_cached_expired_token_is_401_token_expired(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        verified: dict[tuple[str, str, TokenType], TokenClaims],
    ) -> None:
        user = await make_user(db)
        token = token_for(settings, user_id=user.id)
        assert (await client.get(ME, headers=bearer(token))).status_code == 200
        expire(verified, settings, token, TokenType.ACCESS)
        response = await client.get(ME, headers=bearer(token))
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "token_expired"

    def test_a_really_expired_token_is_refused_and_not_cached(
        self, settings: Settings, verified: dict[tuple[str, str, TokenType], TokenClaims]
    ) -> None:
        token, _ = encode_token(
            settings,
            user_id=1,
            token_type=TokenType.ACCESS,
            lifetime=timedelta(minutes=1),
            now=datetime.now(UTC) - timedelta(minutes=5),
        )
        assert refused(settings, token) == "token_expired"
        assert verified == {}


class TestRefusals:
    def test_a_tampered_token_is_refused_and_never_cached(
        self, settings: Settings, verified: dict[tuple[str, str, TokenType], TokenClaims], jwt_decodes: list[str]
    ) -> None:
        token = token_for(settings)
        decode_token(settings, token, TokenType.ACCESS)  # the genuine one is cached
        forged = tamper(token)
        for _ in range(2):
            assert refused(settings, forged) == "invalid_token"
        assert jwt_decodes == [token, forged, forged]  # checked every time
        assert all(key[1] != forged for key in verified)
        assert len(verified) == 1

    def test_a_tampered_token_is_refused_even_first(
        self, settings: Settings, verified: dict[tuple[str, str, TokenType], TokenClaims]
    ) -> None:
        assert refused(settings, tamper(token_for(settings))) == "invalid_token"
        assert verified == {}

    @pytest.mark.parametrize(
        ("issued", "asked"), [(TokenType.ACCESS, TokenType.REFRESH), (TokenType.REFRESH, TokenType.ACCESS)]
    )
    def test_a_token_of_the_wrong_type_is_refused_after_the_right_type_was_cached(
        self,
        settings: Settings,
        verified: dict[tuple[str, str, TokenType], TokenClaims],
        issued: TokenType,
        asked: TokenType,
    ) -> None:
        token = token_for(settings, kind=issued)
        assert decode_token(settings, token, issued).type is issued
        assert refused(settings, token, asked) == "invalid_token"
        assert refused(settings, token, asked) == "invalid_token"
        assert [key[2] for key in verified] == [issued]
        assert decode_token(settings, token, issued).type is issued

    def test_a_token_cached_under_one_key_is_refused_under_another(
        self, settings: Settings, verified: dict[tuple[str, str, TokenType], TokenClaims]
    ) -> None:
        token = token_for(settings)
        decode_token(settings, token, TokenType.ACCESS)
        rotated = settings.model_copy(update={"secret_key": SecretStr("another-secret-key-that-is-long-enough-987654")})
        assert refused(rotated, token) == "invalid_token"
        assert len(verified) == 1

    async def test_over_http_an_access_token_cached_as_such_is_no_refresh_token(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        user = await make_user(db)
        access = token_for(settings, user_id=user.id)
        assert (await client.get(ME, headers=bearer(access))).status_code == 200
        response = await client.post("/api/v1/auth/refresh", headers=bearer(access))
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_token"


class TestBound:
    def test_the_cache_never_holds_more_than_its_bound_and_keeps_the_newest(
        self,
        settings: Settings,
        verified: dict[tuple[str, str, TokenType], TokenClaims],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setattr(tokens, "VERIFIED_TOKENS_KEPT", 4)
        issued = [token_for(settings, user_id=n) for n in range(1, 21)]
        for token in issued:
            decode_token(settings, token, TokenType.ACCESS)
            assert len(verified) <= 4
        cached = {key[1] for key in verified}
        assert issued[-1] in cached
        assert not cached & set(issued[:10])  # the oldest went first
        # An evicted token is simply verified again.
        assert decode_token(settings, issued[0], TokenType.ACCESS).user_id == 1
        assert len(verified) <= 4
