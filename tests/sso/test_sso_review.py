"""Review of single sign-on from an attacker's side: a university's provider must not reach accounts that belong
to another university or to the platform, and saving a provider must not let its admin make the server fetch
internal addresses or read without bound."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse, StreamingResponse
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.auth import STRONG_PASSWORD, Configure, bearer, client_at, register
from tests.fixtures.factories import DEFAULT_PASSWORD, auth_headers, grant_role
from tests.fixtures.live_server import serve
from tests.fixtures.oidc_provider import OidcProvider, Person
from tests.fixtures.tenancy import make_platform_admin
from tests.sso.conftest import API, SsoCampus, callback_for, config_body, one_time_code, set_policy, sign_in
from twosigma.config import Environment, Settings
from twosigma.enums import UserRole
from twosigma.sso import oidc
from twosigma.sso.models import SsoExchangeCode, SsoIdentity, SsoLoginState, SsoProvider
from twosigma.sso.services.sign_in import CALLBACK_PATH, LOGIN_STARTS_PER_ADDRESS, STATE_COOKIE
from twosigma.users.models import User

LOGIN_STARTS = int(LOGIN_STARTS_PER_ADDRESS.split("/")[0])


async def _identities(db: AsyncSession, user_id: int) -> list[SsoIdentity]:
    return list(await db.scalars(select(SsoIdentity).where(SsoIdentity.user_id == user_id)))


class TestLinkingCannotCrossTenants:
    """A university admin registers a provider they run and have it assert, verified, the email of someone who is
    not theirs: the sign-in must not land in that account."""

    async def test_a_member_of_another_university_is_not_linked(
        self, client: httpx.AsyncClient, db: AsyncSession, sso: SsoCampus
    ) -> None:
        for victim in (sso.campus.outsider, sso.campus.outsider_admin):
            r = await sign_in(client, sso, Person(sub=f"evil-{victim.id}", email=victim.email, email_verified=True))
            assert (r.status_code, r.json()["error"]["code"]) == (409, "sso_link_refused"), r.text
            assert await _identities(db, victim.id) == []
        assert await db.scalar(select(SsoExchangeCode.id)) is None

    async def test_a_platform_admin_is_not_linked(
        self, client: httpx.AsyncClient, db: AsyncSession, sso: SsoCampus
    ) -> None:
        admin = await make_platform_admin(db)
        r = await sign_in(client, sso, Person(sub="evil-root", email=admin.email.upper(), email_verified=True))
        assert (r.status_code, r.json()["error"]["code"]) == (409, "sso_link_refused"), r.text
        assert await _identities(db, admin.id) == []

    async def test_the_universitys_own_members_still_link(
        self, client: httpx.AsyncClient, db: AsyncSession, sso: SsoCampus
    ) -> None:
        student = sso.campus.student
        await one_time_code(client, sso, Person(sub="own-1", email=student.email, email_verified=True))
        assert [i.subject for i in await _identities(db, student.id)] == ["own-1"]


class TestTheCallbackBelongsToTheBrowserThatStarted:
    async def test_an_attackers_callback_link_does_not_sign_the_victim_in_as_the_attacker(
        self, app: FastAPI, client: httpx.AsyncClient, db: AsyncSession, sso: SsoCampus
    ) -> None:
        """Login CSRF: the attacker signs in at the provider as themselves, stops before the callback and sends its
        link to the victim; opened there, it would end in a code for the attacker's account in the victim's client."""
        async with client_at(app, "203.0.113.66") as attacker:
            link = await callback_for(attacker, sso, Person(sub="mallory-1", email="mallory@uni.example"))
        r = await client.get(link)  # the victim's browser: it never started this sign-in
        assert (r.status_code, r.json()["error"]["code"]) == (400, "sso_state_invalid"), r.text
        assert await db.scalar(select(SsoExchangeCode.id)) is None

    async def test_the_browser_that_started_finishes_and_its_cookie_is_cleared(
        self, client: httpx.AsyncClient, sso: SsoCampus
    ) -> None:
        started = await client.get(f"{API}/auth/sso/{sso.short_code}/login")
        cookie = started.headers["set-cookie"].lower()
        for attribute in ("httponly", "samesite=lax", "path=/api/v1/auth/sso/callback"):
            assert attribute in cookie
        r = await sign_in(client, sso, Person(sub="fay-1", email="fay@uni.example"))
        assert r.status_code == 302, r.text
        assert "max-age=0" in r.headers.get("set-cookie", "").lower()

    async def test_a_state_still_works_once_when_its_cookie_is_replayed_too(
        self, client: httpx.AsyncClient, sso: SsoCampus
    ) -> None:
        started = await client.get(f"{API}/auth/sso/{sso.short_code}/login")
        state = parse_qs(urlsplit(started.headers["location"]).query)["state"][0]
        sso.idp.sign_in_as(Person(sub="gus-1", email="gus@uni.example"))
        async with httpx.AsyncClient() as browser:
            at_provider = await browser.get(started.headers["location"])
        parts = urlsplit(at_provider.headers["location"])
        callback = f"{parts.path}?{parts.query}"
        assert (await client.get(callback)).status_code == 302
        client.cookies.set(STATE_COOKIE, state, path=CALLBACK_PATH)
        replay = await client.get(callback)
        assert (replay.status_code, replay.json()["error"]["code"]) == (400, "sso_state_invalid")


class TestStartingSignInsIsLimited:
    async def test_one_address_cannot_fill_the_state_table(
        self, app: FastAPI, db: AsyncSession, sso: SsoCampus
    ) -> None:
        async with client_at(app, "203.0.113.77") as flooder:
            answers = [
                (await flooder.get(f"{API}/auth/sso/{sso.short_code}/login")).status_code
                for _ in range(LOGIN_STARTS + 1)
            ]
        assert answers == [302] * LOGIN_STARTS + [429]
        assert await db.scalar(select(func.count()).select_from(SsoLoginState)) == LOGIN_STARTS


class TestEmailVerifiedSpeaksOfTheEmailClaimOnly:
    async def test_an_address_mapped_from_another_claim_never_links_an_existing_account(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, sso: SsoCampus
    ) -> None:
        """`email_verified: true` is about the `email` claim; a provider mapped to read the address from another
        claim (one its users may edit) must not let a user type someone's address there and get their account."""
        r = await client.put(
            f"{API}/universities/{sso.university_id}/sso",
            json=config_body(sso.idp, claim_email="nickname"),
            headers=auth_headers(settings, sso.campus.admin),
        )
        assert r.status_code == 200, r.text
        victim = sso.campus.student
        person = Person(sub="ivy-1", email="ivy@uni.example", email_verified=True, extra={"nickname": victim.email})
        r = await sign_in(client, sso, person)
        assert (r.status_code, r.json()["error"]["code"]) == (409, "sso_email_unverified"), r.text
        assert await _identities(db, victim.id) == []


class TestAPreRegisteredAddressIsNotShared:
    async def test_whoever_registered_the_address_first_loses_the_account_to_its_proven_owner(
        self, client: httpx.AsyncClient, db: AsyncSession, sso: SsoCampus
    ) -> None:
        """Pre-account takeover: someone signs up with the victim's address (never verified) and keeps the
        password; the victim later signs in through the university. The squatter's password and sessions end."""
        squatter = await register(client, email="dana@uni.example", password=STRONG_PASSWORD)
        code = await one_time_code(client, sso, Person(sub="dana-1", email="dana@uni.example", email_verified=True))
        pair = (await client.post(f"{API}/auth/sso/exchange", json={"code": code})).json()
        me = await client.get(f"{API}/users/me", headers=bearer(pair["access_token"]))
        assert me.json()["email"] == "dana@uni.example"
        assert me.json()["email_verified_at"] is not None

        refreshed = await client.post(f"{API}/auth/refresh", headers=bearer(squatter["refresh_token"]))
        assert refreshed.status_code == 401
        login = await client.post(f"{API}/auth/login", json={"email": "dana@uni.example", "password": STRONG_PASSWORD})
        assert login.status_code == 401

    async def test_a_verified_account_keeps_its_password(
        self, client: httpx.AsyncClient, db: AsyncSession, sso: SsoCampus
    ) -> None:
        pair = await register(client, email="erin@uni.example", password=STRONG_PASSWORD)
        user = await db.scalar(select(User).where(User.email == "erin@uni.example"))
        assert user is not None
        user.email_verified_at = user.created_at
        await db.flush()
        await one_time_code(client, sso, Person(sub="erin-1", email="erin@uni.example", email_verified=True))
        assert (await client.post(f"{API}/auth/refresh", headers=bearer(pair["refresh_token"]))).status_code == 200


class TestSsoRequiredEndsPasswordSessions:
    async def test_sessions_signed_in_with_a_password_end_when_the_university_requires_sso(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, sso: SsoCampus
    ) -> None:
        """Without this, a member's password sign-in from before the policy is refreshed for ever: the provider
        never gets a say (an account the university offboarded at its provider keeps working)."""
        platform_admin = await make_platform_admin(db)
        await grant_role(db, platform_admin, sso.campus.university, UserRole.STUDENT)
        pairs = {}
        for user in (sso.campus.student, sso.campus.outsider, platform_admin):
            r = await client.post(f"{API}/auth/login", json={"email": user.email, "password": DEFAULT_PASSWORD})
            assert r.status_code == 200, r.text
            pairs[user.id] = r.json()
        await set_policy(client, settings, sso, sso_required=True)

        def refresh(user_id: int) -> Awaitable[httpx.Response]:
            return client.post(f"{API}/auth/refresh", headers=bearer(pairs[user_id]["refresh_token"]))

        assert (await refresh(sso.campus.student.id)).status_code == 401
        assert (await refresh(sso.campus.outsider.id)).status_code == 200  # another university's member
        assert (await refresh(platform_admin.id)).status_code == 200  # the way back in stays open
        # Saving the policy again (already required) signs nobody out again.
        fresh = await sign_in(client, sso, Person(sub="stu-1", email="late@uni.example"))
        assert fresh.status_code == 302
        code = parse_qs(urlsplit(fresh.headers["location"]).query)["code"][0]
        pair = (await client.post(f"{API}/auth/sso/exchange", json={"code": code})).json()
        await set_policy(client, settings, sso, sso_required=True, allowed_email_domains=["uni.example"])
        assert (await client.post(f"{API}/auth/refresh", headers=bearer(pair["refresh_token"]))).status_code == 200


class TestNeverA500:
    async def test_hostile_callback_parameters_and_cookies(self, client: httpx.AsyncClient, sso: SsoCampus) -> None:
        cases = [("\u00e9t\u00e9", "\u00e9t\u00e9"), ("abc", "\u00e9"), ("\u00e9", "abc"), ("x" * 200, "y")]
        for state, cookie in cases:
            r = await client.get(
                f"{API}/auth/sso/callback",
                params={"code": "c", "state": state},
                headers={"Cookie": f"{STATE_COOKIE}={cookie}".encode()},
            )
            assert (r.status_code, r.json()["error"]["code"]) == (400, "sso_state_invalid"), (state, r.text)

    @pytest.mark.parametrize("issuer", ["http://127.0.0.1:99999", "http://[::1", "http://[zz]:80/x"])
    async def test_malformed_issuers_are_a_422(
        self, client: httpx.AsyncClient, settings: Settings, sso: SsoCampus, idp: OidcProvider, issuer: str
    ) -> None:
        r = await client.put(
            f"{API}/universities/{sso.university_id}/sso",
            json=config_body(idp, issuer=issuer),
            headers=auth_headers(settings, sso.campus.admin),
        )
        assert r.status_code == 422, r.text

    async def test_a_client_secret_under_a_retired_key_is_a_409_not_a_500(
        self, client: httpx.AsyncClient, db: AsyncSession, sso: SsoCampus
    ) -> None:
        await db.execute(
            update(SsoProvider)
            .where(SsoProvider.university_id == sso.university_id)
            .values(client_secret_encrypted="gAAAAABnot-a-token-under-any-configured-key")
        )
        r = await sign_in(client, sso, Person(sub="hal-1", email="hal@uni.example"))
        assert (r.status_code, r.json()["error"]["code"]) == (409, "sso_not_configured"), r.text


@pytest.fixture
def hostile_issuer() -> Iterator[str]:
    """A server whose discovery document never ends (a huge body) or trickles (a byte at a time)."""
    app = FastAPI()
    holder: dict[str, str] = {}

    @app.get("/huge/.well-known/openid-configuration")
    async def huge() -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            yield b'{"issuer": "' + holder["url"].encode() + b'/huge", "padding": "'
            for _ in range(4096):  # 64 MiB if read to the end
                yield b"x" * 16384
            yield b'"}'

        return StreamingResponse(body(), media_type="application/json")

    @app.get("/slow/.well-known/openid-configuration")
    async def slow() -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            yield b"{"
            for _ in range(200):  # 60 seconds, each byte well within a read timeout
                await asyncio.sleep(0.3)
                yield b" "
            yield b"}"

        return StreamingResponse(body(), media_type="application/json")

    @app.get("/ok/.well-known/openid-configuration")
    async def ok() -> JSONResponse:
        return JSONResponse({"issuer": holder["url"] + "/ok"})

    with serve(app) as url:
        holder["url"] = url
        yield url


class TestDiscoveryIsBounded:
    async def test_a_huge_document_is_refused_without_reading_it_all(
        self, client: httpx.AsyncClient, settings: Settings, sso: SsoCampus, idp: OidcProvider, hostile_issuer: str
    ) -> None:
        body = config_body(idp, issuer=hostile_issuer + "/huge")
        started = time.monotonic()
        r = await client.put(
            f"{API}/universities/{sso.university_id}/sso", json=body, headers=auth_headers(settings, sso.campus.admin)
        )
        assert (r.status_code, r.json()["error"]["code"]) == (422, "sso_discovery_failed"), r.text
        assert "too large" in r.json()["error"]["message"]
        assert time.monotonic() - started < 5

    async def test_a_trickling_document_is_cut_off_at_the_deadline(
        self,
        client: httpx.AsyncClient,
        settings: Settings,
        sso: SsoCampus,
        idp: OidcProvider,
        hostile_issuer: str,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setattr(oidc, "HTTP_TIMEOUT_SECONDS", 1.0)
        body = config_body(idp, issuer=hostile_issuer + "/slow")
        started = time.monotonic()
        r = await client.put(
            f"{API}/universities/{sso.university_id}/sso", json=body, headers=auth_headers(settings, sso.campus.admin)
        )
        assert (r.status_code, r.json()["error"]["code"]) == (422, "sso_discovery_failed"), r.text
        assert time.monotonic() - started < 5


class TestDiscoveryStaysOutside:
    @pytest.mark.parametrize(
        "issuer",
        [
            "https://127.0.0.1:9",
            "https://localhost/realms/x",
            "https://10.1.2.3",
            "https://169.254.169.254/latest",
            "https://[::1]:8443",
            "https://0.0.0.0",
        ],
    )
    async def test_a_production_install_refuses_internal_addresses_before_connecting(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        sso: SsoCampus,
        idp: OidcProvider,
        configure: Configure,
        issuer: str,
    ) -> None:
        configure(environment=Environment.PRODUCTION)
        r = await client.put(
            f"{API}/universities/{sso.university_id}/sso",
            json=config_body(idp, issuer=issuer),
            headers=auth_headers(settings, sso.campus.admin),
        )
        assert (r.status_code, r.json()["error"]["code"]) == (422, "sso_issuer_not_public"), r.text
        stored = (await db.scalars(select(SsoProvider).where(SsoProvider.university_id == sso.university_id))).one()
        assert stored.issuer == idp.issuer
