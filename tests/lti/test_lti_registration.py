"""Registering a platform by hand (a university's admins), and the tool's keys (/lti/jwks.json, rotate-key)."""

from __future__ import annotations

import httpx
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.courses import make_campus
from tests.fixtures.factories import auth_headers
from tests.fixtures.lti_platform import TestPlatform
from tests.lti.conftest import API, LtiCampus, register
from twosigma.config import Settings
from twosigma.lti.models import LtiPlatform, LtiToolKey
from twosigma.lti.services import keys


class TestManualRegistration:
    async def test_admin_registers_a_platform_and_reads_the_values_to_paste(self, lti: LtiCampus) -> None:
        assert lti.platform_id > 0

    async def test_list_shows_the_platform_with_the_tool_endpoints(
        self, client: httpx.AsyncClient, settings: Settings, lti: LtiCampus
    ) -> None:
        r = await client.get(
            f"{API}/universities/{lti.university_id}/lti/platforms", headers=auth_headers(settings, lti.campus.admin)
        )
        assert r.status_code == 200, r.text
        [platform] = r.json()
        assert platform["issuer"] == lti.platform.issuer
        assert platform["deployment_ids"] == ["deployment-1"]
        assert platform["enabled"] is True
        assert platform["tool"] == {
            "login_url": "http://localhost:8000/lti/login",
            "launch_url": "http://localhost:8000/lti/launch",
            "jwks_url": "http://localhost:8000/lti/jwks.json",
        }

    async def test_the_same_issuer_and_client_id_cannot_belong_to_another_university(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, lti: LtiCampus, platform: TestPlatform
    ) -> None:
        other = await make_campus(db)
        r = await register(client, settings, other, platform)
        assert r.status_code == 409, r.text
        assert r.json()["error"]["code"] == "lti_platform_taken"
        count = await db.scalar(
            select(func.count()).select_from(LtiPlatform).where(LtiPlatform.issuer == platform.issuer)
        )
        assert count == 1

    async def test_admin_updates_deployments_and_disables_the_platform(
        self, client: httpx.AsyncClient, settings: Settings, lti: LtiCampus
    ) -> None:
        url = f"{API}/universities/{lti.university_id}/lti/platforms/{lti.platform_id}"
        headers = auth_headers(settings, lti.campus.admin)
        r = await client.patch(url, json={"deployment_ids": ["d-1", "d-2"], "enabled": False}, headers=headers)
        assert r.status_code == 200, r.text
        assert r.json()["deployment_ids"] == ["d-1", "d-2"]
        assert r.json()["enabled"] is False

    async def test_an_instructor_may_not_register_platforms(
        self, client: httpx.AsyncClient, settings: Settings, lti: LtiCampus, platform: TestPlatform
    ) -> None:
        r = await client.get(
            f"{API}/universities/{lti.university_id}/lti/platforms",
            headers=auth_headers(settings, lti.campus.instructor),
        )
        assert r.status_code == 403

    async def test_another_universitys_admin_gets_404_for_the_platform(
        self, client: httpx.AsyncClient, settings: Settings, lti: LtiCampus
    ) -> None:
        r = await client.patch(
            f"{API}/universities/{lti.university_id}/lti/platforms/{lti.platform_id}",
            json={"enabled": False},
            headers=auth_headers(settings, lti.campus.outsider_admin),
        )
        assert r.status_code == 404

    async def test_a_platform_of_another_university_is_404_under_this_one(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, lti: LtiCampus
    ) -> None:
        other = await make_campus(db)
        r = await client.patch(
            f"{API}/universities/{other.university.id}/lti/platforms/{lti.platform_id}",
            json={"enabled": False},
            headers=auth_headers(settings, other.admin),
        )
        assert r.status_code == 404

    async def test_a_registration_without_deployments_is_422(
        self, client: httpx.AsyncClient, settings: Settings, lti: LtiCampus, platform: TestPlatform
    ) -> None:
        r = await client.post(
            f"{API}/universities/{lti.university_id}/lti/platforms",
            json=platform.registration_body(client_id="another", deployment_ids=[]),
            headers=auth_headers(settings, lti.campus.admin),
        )
        assert r.status_code == 422


class TestToolKeys:
    async def test_jwks_publishes_one_public_rsa_key_and_stores_the_private_key_encrypted(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        r = await client.get("/lti/jwks.json")
        assert r.status_code == 200
        [key] = r.json()["keys"]
        assert key["kty"] == "RSA"
        assert key["alg"] == "RS256"
        assert key["use"] == "sig"
        assert "d" not in key
        assert "p" not in key
        row = (await db.scalars(select(LtiToolKey))).one()
        assert row.kid == key["kid"]
        assert '"d"' not in row.private_key_encrypted
        assert row.private_key_encrypted.startswith("gAAAA")

    async def test_a_signed_token_verifies_with_the_published_keys(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        token = await keys.sign(db, settings, {"iss": "tool", "aud": "platform"})
        published = KeySet.import_key_set((await client.get("/lti/jwks.json")).json())
        assert jwt.decode(token, published).claims["aud"] == "platform"

    async def test_rotation_signs_with_a_new_key_and_keeps_publishing_the_old_one(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        old = (await keys.signing_key(db, settings)).kid
        token = await keys.sign(db, settings, {"iss": "tool"})
        new = await keys.rotate(db, settings)
        assert new != old
        assert (await keys.signing_key(db, settings)).kid == new
        published = (await client.get("/lti/jwks.json")).json()
        assert {k["kid"] for k in published["keys"]} == {old, new}
        assert jwt.decode(token, KeySet.import_key_set(published)).claims["iss"] == "tool"
