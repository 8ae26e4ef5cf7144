"""Single sign-on end to end against a real OpenID Connect provider on 127.0.0.1 (tests/fixtures/oidc_provider.py)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.auth import Configure
from tests.fixtures.factories import make_user
from tests.fixtures.oidc_provider import CLIENT_ID, Person
from tests.sso.conftest import API, SsoCampus, callback_for, one_time_code, set_policy, sign_in
from twosigma.config import Settings
from twosigma.enums import UserRole
from twosigma.sso.models import SsoExchangeCode, SsoIdentity, SsoLoginState
from twosigma.sso.oidc import jwks_cache
from twosigma.tenancy.models import UserUniversityRole
from twosigma.users.models import User


def _person(sub: str = "alice-123", email: str = "alice@uni.example", **kwargs: object) -> Person:
    return Person(sub=sub, email=email, **kwargs)  # type: ignore[arg-type]


async def _roles(db: AsyncSession, user_id: int, university_id: int) -> set[UserRole]:
    rows = await db.scalars(
        select(UserUniversityRole.role).where(
            UserUniversityRole.user_id == user_id, UserUniversityRole.university_id == university_id
        )
    )
    return set(rows)


class TestTheFlow:
    async def test_login_redirects_to_the_provider_with_pkce_state_and_nonce(
        self, client: httpx.AsyncClient, db: AsyncSession, sso: SsoCampus
    ) -> None:
        r = await client.get(f"{API}/auth/sso/{sso.short_code}/login")
        assert r.status_code == 302
        url = urlsplit(r.headers["location"])
        assert f"{url.scheme}://{url.netloc}{url.path}" == f"{sso.idp.url}/authorize"
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        assert q["response_type"] == "code"
        assert q["client_id"] == CLIENT_ID
        assert q["code_challenge_method"] == "S256"
        assert len(q["code_challenge"]) == 43
        assert q["state"]
        assert q["nonce"]
        assert "openid" in q["scope"].split()
        assert q["redirect_uri"].endswith("/api/v1/auth/sso/callback")
        # The state is stored hashed only; the verifier never leaves the server.
        stored = (await db.scalars(select(SsoLoginState))).all()
        assert [s.state_hash for s in stored if s.university_id == sso.university_id]
        assert all(q["state"] not in (s.state_hash, s.nonce, s.code_verifier) for s in stored)
        assert all(s.code_verifier not in r.headers["location"] for s in stored)

    async def test_the_whole_flow_ends_in_a_token_pair_and_a_student_role(
        self, client: httpx.AsyncClient, db: AsyncSession, sso: SsoCampus
    ) -> None:
        r = await sign_in(client, sso, _person(name="Alice Liddell"))
        assert r.status_code == 302, r.text
        location = r.headers["location"]
        # No token in any URL: only the one-time code, on this server's page (no TWOSIGMA_WEB_BASE_URL).
        assert urlsplit(location).path == "/api/v1/auth/sso/complete"
        assert "access_token" not in location
        assert "eyJ" not in location
        code = parse_qs(urlsplit(location).query)["code"][0]
        page = await client.get(urlsplit(location).path, params={"code": code})
        assert page.status_code == 200
        assert "text/html" in page.headers["content-type"]
        assert "/api/v1/auth/sso/exchange" in page.text

        pair = await client.post(f"{API}/auth/sso/exchange", json={"code": code})
        assert pair.status_code == 200, pair.text
        assert set(pair.json()) == {"access_token", "refresh_token", "token_type", "expires_in"}
        me = await client.get(f"{API}/users/me", headers={"Authorization": f"Bearer {pair.json()['access_token']}"})
        assert me.status_code == 200, me.text
        assert (me.json()["email"], me.json()["full_name"]) == ("alice@uni.example", "Alice Liddell")
        user_id = me.json()["id"]
        assert await _roles(db, user_id, sso.university_id) == {UserRole.STUDENT}
        identity = (await db.scalars(select(SsoIdentity).where(SsoIdentity.user_id == user_id))).one()
        assert (identity.issuer, identity.subject) == (sso.idp.issuer, "alice-123")
        # The account has no password: password sign-in cannot work for it.
        login = await client.post(f"{API}/auth/login", json={"email": "alice@uni.example", "password": "!no-password"})
        assert login.status_code == 401

    async def test_an_exchange_code_works_once(self, client: httpx.AsyncClient, sso: SsoCampus) -> None:
        code = await one_time_code(client, sso, _person())
        assert (await client.post(f"{API}/auth/sso/exchange", json={"code": code})).status_code == 200
        again = await client.post(f"{API}/auth/sso/exchange", json={"code": code})
        assert (again.status_code, again.json()["error"]["code"]) == (400, "sso_code_invalid")
        unknown = await client.post(f"{API}/auth/sso/exchange", json={"code": "made-up"})
        assert unknown.json()["error"]["code"] == "sso_code_invalid"

    async def test_an_expired_exchange_code_or_state_is_refused(
        self, client: httpx.AsyncClient, db: AsyncSession, sso: SsoCampus
    ) -> None:
        code = await one_time_code(client, sso, _person())
        past = datetime.now(UTC) - timedelta(seconds=1)
        await db.execute(update(SsoExchangeCode).values(expires_at=past))
        r = await client.post(f"{API}/auth/sso/exchange", json={"code": code})
        assert (r.status_code, r.json()["error"]["code"]) == (400, "sso_code_invalid")
        callback = await callback_for(client, sso, _person())
        await db.execute(update(SsoLoginState).values(expires_at=past))
        assert (await client.get(callback)).json()["error"]["code"] == "sso_state_invalid"

    async def test_the_next_sign_in_finds_the_user_by_issuer_and_subject_not_email(
        self, client: httpx.AsyncClient, db: AsyncSession, sso: SsoCampus
    ) -> None:
        await one_time_code(client, sso, _person())
        await one_time_code(client, sso, _person(email="alice.renamed@uni.example"))
        identities = (await db.scalars(select(SsoIdentity).where(SsoIdentity.subject == "alice-123"))).all()
        assert len(identities) == 1
        assert await db.scalar(select(func.count()).select_from(User).where(User.email.like("alice%@uni.example"))) == 1

    async def test_an_existing_role_is_kept(self, client: httpx.AsyncClient, db: AsyncSession, sso: SsoCampus) -> None:
        ta = sso.campus.ta
        await one_time_code(client, sso, _person(sub="ta-1", email=ta.email, email_verified=True))
        assert await _roles(db, ta.id, sso.university_id) == {UserRole.TA}

    async def test_web_base_url_receives_the_code(
        self, client: httpx.AsyncClient, sso: SsoCampus, configure: Configure
    ) -> None:
        configure(web_base_url="https://learn.uni.example/")
        r = await sign_in(client, sso, _person())
        assert r.headers["location"].startswith("https://learn.uni.example/sso/complete?code=")

    async def test_the_complete_page_escapes_what_it_shows(self, client: httpx.AsyncClient) -> None:
        page = await client.get(f"{API}/auth/sso/complete", params={"code": '"><script>alert(1)</script>'})
        assert page.status_code == 200
        assert "<script>" not in page.text


class TestRefusals:
    async def test_a_replayed_state_is_refused(self, client: httpx.AsyncClient, sso: SsoCampus) -> None:
        callback = await callback_for(client, sso, _person())
        assert (await client.get(callback)).status_code == 302
        replay = await client.get(callback)
        assert (replay.status_code, replay.json()["error"]["code"]) == (400, "sso_state_invalid")

    async def test_a_state_refused_once_stays_used(self, client: httpx.AsyncClient, sso: SsoCampus) -> None:
        sso.idp.id_token_overrides = {"aud": "someone-else"}
        callback = await callback_for(client, sso, _person())
        assert (await client.get(callback)).json()["error"]["code"] == "sso_id_token_invalid"
        sso.idp.id_token_overrides = {}
        assert (await client.get(callback)).json()["error"]["code"] == "sso_state_invalid"

    async def test_an_unknown_state_is_refused(self, client: httpx.AsyncClient) -> None:
        r = await client.get(f"{API}/auth/sso/callback", params={"code": "x", "state": "never-issued"})
        assert (r.status_code, r.json()["error"]["code"]) == (400, "sso_state_invalid")

    async def test_wrong_audience(self, client: httpx.AsyncClient, sso: SsoCampus) -> None:
        sso.idp.id_token_overrides = {"aud": "another-client"}
        r = await sign_in(client, sso, _person())
        assert (r.status_code, r.json()["error"]["code"]) == (400, "sso_id_token_invalid")
        assert r.json()["error"]["details"] == {"claim": "aud"}

    async def test_wrong_issuer(self, client: httpx.AsyncClient, sso: SsoCampus) -> None:
        sso.idp.id_token_overrides = {"iss": "https://impostor.example"}
        r = await sign_in(client, sso, _person())
        assert (r.status_code, r.json()["error"]["details"]) == (400, {"claim": "iss"})

    async def test_expired_token(self, client: httpx.AsyncClient, sso: SsoCampus) -> None:
        now = int(time.time())
        sso.idp.id_token_overrides = {"iat": now - 7200, "exp": now - 3600}
        r = await sign_in(client, sso, _person())
        assert (r.status_code, r.json()["error"]["details"]) == (400, {"claim": "exp"})

    async def test_wrong_nonce(self, client: httpx.AsyncClient, sso: SsoCampus) -> None:
        sso.idp.id_token_overrides = {"nonce": "replayed-token-nonce"}
        r = await sign_in(client, sso, _person())
        assert (r.status_code, r.json()["error"]["details"]) == (400, {"claim": "nonce"})

    async def test_the_provider_turning_the_user_away(self, client: httpx.AsyncClient, sso: SsoCampus) -> None:
        r = await client.get(await callback_for(client, sso, None))
        assert (r.status_code, r.json()["error"]["code"]) == (400, "sso_provider_denied")

    async def test_unknown_university(self, client: httpx.AsyncClient) -> None:
        r = await client.get(f"{API}/auth/sso/NO-SUCH/login")
        assert r.status_code == 404


class TestKeyRotation:
    async def test_a_new_signing_key_is_fetched_once_then_cached(
        self, client: httpx.AsyncClient, sso: SsoCampus
    ) -> None:
        await one_time_code(client, sso, _person())  # the current key is cached
        before = sso.idp.jwks_requests
        sso.idp.rotate_key()
        await one_time_code(client, sso, _person())  # unknown kid: the JWKS is fetched again
        assert sso.idp.jwks_requests == before + 1
        await one_time_code(client, sso, _person())  # and cached
        assert sso.idp.jwks_requests == before + 1
        assert jwks_cache().fetches >= 1


class TestLinkingByEmail:
    async def test_unverified_email_does_not_merge_with_an_existing_account(
        self, client: httpx.AsyncClient, db: AsyncSession, sso: SsoCampus
    ) -> None:
        existing = await make_user(db, email="bob@uni.example")
        r = await sign_in(client, sso, _person(sub="bob-1", email="bob@uni.example", email_verified=False))
        assert (r.status_code, r.json()["error"]["code"]) == (409, "sso_email_unverified")
        r = await sign_in(client, sso, _person(sub="bob-1", email="bob@uni.example", email_verified=None))
        assert r.json()["error"]["code"] == "sso_email_unverified"
        assert (await db.scalars(select(SsoIdentity).where(SsoIdentity.user_id == existing.id))).first() is None

    async def test_a_verified_email_links_the_existing_account(
        self, client: httpx.AsyncClient, db: AsyncSession, sso: SsoCampus
    ) -> None:
        existing = await make_user(db, email="carol@uni.example")
        code = await one_time_code(client, sso, _person(sub="carol-1", email="Carol@uni.example"))
        pair = (await client.post(f"{API}/auth/sso/exchange", json={"code": code})).json()
        me = await client.get(f"{API}/users/me", headers={"Authorization": f"Bearer {pair['access_token']}"})
        assert me.json()["id"] == existing.id

    async def test_a_disallowed_domain_neither_links_nor_creates(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, sso: SsoCampus
    ) -> None:
        await set_policy(client, settings, sso, allowed_email_domains=["uni.example"])
        r = await sign_in(client, sso, _person(sub="eve-1", email="eve@elsewhere.example"))
        assert (r.status_code, r.json()["error"]["code"]) == (403, "email_domain_not_allowed")
        assert r.json()["error"]["details"] == {"allowed_email_domains": ["uni.example"]}
        assert await db.scalar(select(User.id).where(User.email == "eve@elsewhere.example")) is None
        assert (await sign_in(client, sso, _person(sub="ann-1", email="ann@uni.example"))).status_code == 302
