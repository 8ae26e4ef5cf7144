"""Dynamic Registration 1.0: a university admin's single-use link, opened by the LMS with its configuration URL and
registration token, registers the platform for that university; the platform can then launch."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.courses import make_campus
from tests.fixtures.factories import auth_headers
from tests.fixtures.lti_platform import LEARNER, REGISTRATION_TOKEN, LaunchSpec, TestPlatform, random_sub
from tests.lti.conftest import API, launch, launched_query
from twosigma.config import Settings
from twosigma.lti.models import LtiContext, LtiPlatform


async def _link(client: httpx.AsyncClient, settings: Settings, university_id: int, admin: object) -> str:
    r = await client.post(
        f"{API}/universities/{university_id}/lti/registration-links",
        headers=auth_headers(settings, admin),  # type: ignore[arg-type]
    )
    assert r.status_code == 201, r.text
    url = r.json()["url"]
    assert url.startswith("http://localhost:8000/lti/register?link=")
    return urlsplit(url).query.removeprefix("link=")


def _open(platform: TestPlatform, link: str, token: str = REGISTRATION_TOKEN) -> dict[str, str]:
    return {
        "link": link,
        "openid_configuration": f"{platform.url}/.well-known/openid-configuration",
        "registration_token": token,
    }


class TestDynamicRegistration:
    async def test_the_lms_registers_itself_with_the_link_and_can_launch(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, platform: TestPlatform
    ) -> None:
        campus = await make_campus(db)
        link = await _link(client, settings, campus.university.id, campus.admin)
        r = await client.get("/lti/register", params=_open(platform, link))
        assert r.status_code == 201, r.text
        assert "org.imsglobal.lti.close" in r.text
        assert f"frame-ancestors {platform.url}" in r.headers["content-security-policy"]
        [posted] = platform.tool_registrations
        assert posted["initiate_login_uri"] == "http://localhost:8000/lti/login"
        assert posted["redirect_uris"] == ["http://localhost:8000/lti/launch"]
        assert posted["jwks_uri"] == "http://localhost:8000/lti/jwks.json"
        assert posted["token_endpoint_auth_method"] == "private_key_jwt"
        registered = (await db.scalars(select(LtiPlatform).where(LtiPlatform.client_id == "dynamic-client-1"))).one()
        assert registered.university_id == campus.university.id
        assert registered.deployment_ids == ["dynamic-deployment-1"]
        assert registered.jwks_url == f"{platform.url}/jwks"

        # The registration's client id and deployment are the ones the platform launches with.
        platform.registration.set_client_id("dynamic-client-1").set_deployment_id("dynamic-deployment-1")
        try:
            db.add(
                LtiContext(platform_id=registered.id, context_id="course-101", course_offering_id=campus.offering.id)
            )
            await db.flush()
            launched_query(await launch(client, platform, LaunchSpec(sub=random_sub(), roles=[LEARNER])))
        finally:
            platform.registration.set_client_id("twosigma-lti-client").set_deployment_id("deployment-1")

    async def test_the_link_works_once(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, platform: TestPlatform
    ) -> None:
        campus = await make_campus(db)
        link = await _link(client, settings, campus.university.id, campus.admin)
        assert (await client.get("/lti/register", params=_open(platform, link))).status_code == 201
        again = await client.get("/lti/register", params=_open(platform, link))
        assert again.status_code == 400
        assert "lti_registration_link_invalid" in again.text
        assert len(platform.tool_registrations) == 1

    async def test_a_refused_registration_token_stores_nothing_and_leaves_the_link_usable(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, platform: TestPlatform
    ) -> None:
        campus = await make_campus(db)
        link = await _link(client, settings, campus.university.id, campus.admin)
        r = await client.get("/lti/register", params=_open(platform, link, token="wrong"))
        assert r.status_code == 400
        assert "HTTP 401" in r.text
        platforms = await db.scalars(select(LtiPlatform).where(LtiPlatform.university_id == campus.university.id))
        assert platforms.all() == []
        assert (await client.get("/lti/register", params=_open(platform, link))).status_code == 201

    async def test_a_configuration_naming_another_issuer_is_refused(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, platform: TestPlatform
    ) -> None:
        campus = await make_campus(db)
        link = await _link(client, settings, campus.university.id, campus.admin)
        params = _open(platform, link)
        params["openid_configuration"] = (
            platform.url.replace("127.0.0.1", "localhost") + "/.well-known/openid-configuration"
        )
        r = await client.get("/lti/register", params=params)
        assert r.status_code == 400
        assert "is not on the origin of the issuer" in r.text

    async def test_only_the_universitys_admins_make_links(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus = await make_campus(db)
        url = f"{API}/universities/{campus.university.id}/lti/registration-links"
        assert (await client.post(url, headers=auth_headers(settings, campus.instructor))).status_code == 403
        assert (await client.post(url, headers=auth_headers(settings, campus.outsider_admin))).status_code == 404
