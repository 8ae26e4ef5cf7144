"""The OIDC login's state is bound to the browser that started it: `/lti/login` sets a cookie (named after the
state, holding a hash of it), and `/lti/launch` refuses a state the posting browser holds no matching cookie for.
That is what stops login CSRF: an attacker's own launch (their state, their id_token) posted from a victim's browser
would otherwise sign the victim in as the attacker."""

from __future__ import annotations

import logging

import httpx
import pytest
from fastapi import Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.lti_platform import LEARNER, LaunchSpec, random_sub
from tests.lti.conftest import LtiCampus, authenticate, launched_query, link_context, local
from twosigma.config import Settings
from twosigma.enrollments.models import CourseEnrollment
from twosigma.lti.models import LtiIdentity, LtiLaunchCode, LtiLoginState
from twosigma.lti.routers.launch import set_state_cookie
from twosigma.lti.services.launch import STATE_COOKIE_PREFIX, browser_binding, state_cookie_name
from twosigma.users.models import User


async def _counts(db: AsyncSession) -> tuple[int | None, ...]:
    return tuple(
        [
            await db.scalar(select(func.count()).select_from(model))
            for model in (User, LtiIdentity, CourseEnrollment, LtiLaunchCode, LtiLoginState)
        ]
    )


def _spec() -> LaunchSpec:
    return LaunchSpec(sub=random_sub(), roles=[LEARNER])


def _state_cookies(client: httpx.AsyncClient) -> list[str]:
    return [name for name in client.cookies if name.startswith(STATE_COOKIE_PREFIX)]


@pytest.fixture
async def linked(client: httpx.AsyncClient, settings: Settings, lti: LtiCampus) -> LtiCampus:
    await link_context(client, settings, lti, "course-101")
    return lti


async def _refused_launch(
    client: httpx.AsyncClient,
    db: AsyncSession,
    action: str,
    fields: dict[str, str],
    caplog: pytest.LogCaptureFixture,
    reason: str,
) -> None:
    before = await _counts(db)
    with caplog.at_level(logging.WARNING, logger="twosigma.lti"):
        r = await client.post(local(action), data=fields)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("text/html")
    assert "did not start in this browser" in r.text
    assert "lti_browser_mismatch" in r.text
    # Nothing created; the state row is used up (one fewer), so the launch cannot be tried again.
    after = await _counts(db)
    assert after[:-1] == before[:-1]
    assert after[-1] == (before[-1] or 0) - 1
    assert any(reason in record.getMessage() for record in caplog.records), [x.getMessage() for x in caplog.records]


class TestTheStateCookie:
    async def test_the_login_sets_an_http_only_cookie_bound_to_the_state(
        self, client: httpx.AsyncClient, linked: LtiCampus
    ) -> None:
        r = await client.get(local(linked.platform.login_initiation_url(_spec())))
        assert r.status_code == 302
        state = dict(httpx.URL(r.headers["location"]).params)["state"]
        header = r.headers["set-cookie"]
        assert header.startswith(f"{state_cookie_name(state)}={browser_binding(state)};")
        assert browser_binding(state) != state
        assert state not in header
        attributes = {part.strip().lower() for part in header.split(";")[1:]}
        assert {"httponly", "path=/lti/", "max-age=600", "samesite=lax"} <= attributes
        # Over http (the tests' public base URL) browsers refuse SameSite=None without Secure: Lax, not Secure.
        assert "secure" not in attributes
        assert "partitioned" not in attributes

    def test_over_https_it_is_secure_samesite_none_and_partitioned(self, settings: Settings) -> None:
        response = Response()
        set_state_cookie(response, settings.model_copy(update={"public_base_url": "https://tutor.example"}), "s")
        attributes = {part.strip().lower() for part in response.headers["set-cookie"].split(";")[1:]}
        assert {"httponly", "secure", "samesite=none", "partitioned", "path=/lti/"} <= attributes

    async def test_the_right_cookie_launches_and_the_cookie_is_then_deleted(
        self, client: httpx.AsyncClient, linked: LtiCampus
    ) -> None:
        action, fields = await authenticate(client, linked.platform, _spec())
        assert _state_cookies(client) == [state_cookie_name(fields["state"])]
        r = await client.post(local(action), data=fields)
        launched_query(r)
        assert r.headers["set-cookie"].startswith(f"{state_cookie_name(fields['state'])}=;")
        assert "max-age=0" in r.headers["set-cookie"].lower()
        assert _state_cookies(client) == []

    async def test_two_logins_in_one_browser_each_keep_their_cookie(
        self, client: httpx.AsyncClient, linked: LtiCampus
    ) -> None:
        first = await authenticate(client, linked.platform, _spec())
        second = await authenticate(client, linked.platform, _spec())
        launched_query(await client.post(local(second[0]), data=second[1]))
        launched_query(await client.post(local(first[0]), data=first[1]))


class TestRefusedWithoutTheBrowser:
    async def test_a_missing_cookie_is_refused_and_creates_nothing(
        self, client: httpx.AsyncClient, db: AsyncSession, linked: LtiCampus, caplog: pytest.LogCaptureFixture
    ) -> None:
        # The login CSRF: the attacker's launch (state and id_token) posted from a browser that never logged in.
        action, fields = await authenticate(client, linked.platform, _spec())
        client.cookies.clear()
        await _refused_launch(client, db, action, fields, caplog, "cookie is missing")

    async def test_a_wrong_cookie_is_refused_and_creates_nothing(
        self, client: httpx.AsyncClient, db: AsyncSession, linked: LtiCampus, caplog: pytest.LogCaptureFixture
    ) -> None:
        action, fields = await authenticate(client, linked.platform, _spec())
        name = state_cookie_name(fields["state"])
        client.cookies.clear()
        client.cookies.set(name, browser_binding("another state"), path="/lti/")
        await _refused_launch(client, db, action, fields, caplog, "cookie differs")

    async def test_the_cookie_of_another_login_does_not_do(
        self, client: httpx.AsyncClient, db: AsyncSession, linked: LtiCampus, caplog: pytest.LogCaptureFixture
    ) -> None:
        # The attacker's state posted from a victim who has a login of their own under way.
        attacker = await authenticate(client, linked.platform, _spec())
        client.cookies.clear()
        await authenticate(client, linked.platform, _spec())
        await _refused_launch(client, db, attacker[0], attacker[1], caplog, "cookie is missing")

    async def test_a_refused_state_is_used_up_even_with_its_cookie_brought_back(
        self, client: httpx.AsyncClient, db: AsyncSession, linked: LtiCampus, caplog: pytest.LogCaptureFixture
    ) -> None:
        action, fields = await authenticate(client, linked.platform, _spec())
        name = state_cookie_name(fields["state"])
        client.cookies.clear()
        await _refused_launch(client, db, action, fields, caplog, "cookie is missing")
        client.cookies.set(name, browser_binding(fields["state"]), path="/lti/")
        again = await client.post(local(action), data=fields)
        assert again.status_code == 400
        assert "lti_launch_refused" in again.text
