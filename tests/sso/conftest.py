"""A real OpenID Connect provider on 127.0.0.1 (one per session, reset per test) and a university using it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.auth import Configure
from tests.fixtures.courses import Campus, make_campus
from tests.fixtures.factories import auth_headers
from tests.fixtures.oidc_provider import CLIENT_ID, CLIENT_SECRET, OidcProvider, Person, running_provider
from twosigma.config import Settings
from twosigma.kit.state import state_of

API = "/api/v1"


@pytest.fixture(scope="session")
def _provider_server() -> Iterator[OidcProvider]:
    with running_provider() as provider:
        yield provider


@pytest.fixture
def idp(_provider_server: OidcProvider) -> OidcProvider:
    _provider_server.reset()
    return _provider_server


@pytest.fixture
def configure(app: FastAPI) -> Iterator[Configure]:
    original: Settings = state_of(app).settings

    def apply(**changes: Any) -> Settings:
        state_of(app).settings = original.model_copy(update=changes)
        changed: Settings = state_of(app).settings
        return changed

    yield apply
    state_of(app).settings = original


def config_body(idp: OidcProvider, **overrides: Any) -> dict[str, Any]:
    return {"issuer": idp.issuer, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, **overrides}


@dataclass
class SsoCampus:
    campus: Campus
    idp: OidcProvider

    @property
    def short_code(self) -> str:
        return self.campus.university.short_code

    @property
    def university_id(self) -> int:
        return self.campus.university.id


@pytest.fixture
async def sso(client: httpx.AsyncClient, db: AsyncSession, settings: Settings, idp: OidcProvider) -> SsoCampus:
    """A university (with a published course and offering) whose admin registered the test provider."""
    campus = await make_campus(db)
    r = await client.put(
        f"{API}/universities/{campus.university.id}/sso",
        json=config_body(idp),
        headers=auth_headers(settings, campus.admin),
    )
    assert r.status_code == 200, r.text
    return SsoCampus(campus, idp)


async def set_policy(client: httpx.AsyncClient, settings: Settings, sso: SsoCampus, **policy: Any) -> None:
    r = await client.put(
        f"{API}/universities/{sso.university_id}/access-policy",
        json=policy,
        headers=auth_headers(settings, sso.campus.admin),
    )
    assert r.status_code == 200, r.text


def _local(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


async def callback_for(client: httpx.AsyncClient, sso: SsoCampus, person: Person | None) -> str:
    """Start a sign-in, let `person` sign in at the provider (a real HTTP round trip); the callback's path+query."""
    r = await client.get(f"{API}/auth/sso/{sso.short_code}/login")
    assert r.status_code == 302, r.text
    if person is not None:
        sso.idp.sign_in_as(person)
    async with httpx.AsyncClient() as browser:
        at_provider = await browser.get(r.headers["location"])
    assert at_provider.status_code == 302, at_provider.text
    return _local(at_provider.headers["location"])


async def sign_in(client: httpx.AsyncClient, sso: SsoCampus, person: Person) -> httpx.Response:
    """The whole flow up to the callback's answer."""
    return await client.get(await callback_for(client, sso, person))


async def one_time_code(client: httpx.AsyncClient, sso: SsoCampus, person: Person) -> str:
    r = await sign_in(client, sso, person)
    assert r.status_code == 302, r.text
    query = urlsplit(r.headers["location"]).query
    assert query.startswith("code=")
    return query.removeprefix("code=")
