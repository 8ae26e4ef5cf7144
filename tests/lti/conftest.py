"""A real LTI 1.3 platform on 127.0.0.1 (one per session, reset per test) and a university that registered it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.courses import Campus, make_campus
from tests.fixtures.factories import auth_headers
from tests.fixtures.lti_platform import TOOL_BASE, LaunchSpec, TestPlatform, launch_form, running_platform
from twosigma.config import Settings
from twosigma.lti.services.verification import jwks_cache

API = "/api/v1"


@pytest.fixture(scope="session")
def _platform_server() -> Iterator[TestPlatform]:
    with running_platform() as platform:
        yield platform


@pytest.fixture
def platform(_platform_server: TestPlatform, settings: Settings) -> TestPlatform:
    assert settings.public_base_url == TOOL_BASE
    _platform_server.reset()
    jwks_cache().clear()
    return _platform_server


@dataclass
class LtiCampus:
    campus: Campus
    platform: TestPlatform
    platform_id: int

    @property
    def university_id(self) -> int:
        return self.campus.university.id


def local(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


async def register(
    client: httpx.AsyncClient, settings: Settings, campus: Campus, platform: TestPlatform
) -> httpx.Response:
    return await client.post(
        f"{API}/universities/{campus.university.id}/lti/platforms",
        json=platform.registration_body(),
        headers=auth_headers(settings, campus.admin),
    )


@pytest.fixture
async def lti(client: httpx.AsyncClient, db: AsyncSession, settings: Settings, platform: TestPlatform) -> LtiCampus:
    """A university (a published course and offering) whose admin registered the test platform."""
    campus = await make_campus(db)
    r = await register(client, settings, campus, platform)
    assert r.status_code == 201, r.text
    return LtiCampus(campus, platform, r.json()["id"])


async def link_context(client: httpx.AsyncClient, settings: Settings, lti: LtiCampus, context_id: str) -> None:
    r = await client.put(
        f"{API}/offerings/{lti.campus.offering.id}/lti-context",
        json={"platform_id": lti.platform_id, "context_id": context_id},
        headers=auth_headers(settings, lti.campus.instructor),
    )
    assert r.status_code == 200, r.text


async def authenticate(
    client: httpx.AsyncClient, platform: TestPlatform, spec: LaunchSpec
) -> tuple[str, dict[str, str]]:
    """The LMS's login initiation, the tool's redirect to the platform, the platform's auto-submitting form: its
    action and fields (id_token, state), every hop a real HTTP request."""
    r = await client.get(local(platform.login_initiation_url(spec)))
    assert r.status_code == 302, r.text
    async with httpx.AsyncClient() as browser:
        page = await browser.get(r.headers["location"])
    assert page.status_code == 200, page.text
    return launch_form(page.text)


async def launch(client: httpx.AsyncClient, platform: TestPlatform, spec: LaunchSpec) -> httpx.Response:
    action, fields = await authenticate(client, platform, spec)
    return await client.post(local(action), data=fields)


def launched_query(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith(f"{TOOL_BASE}/lti/launched?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
