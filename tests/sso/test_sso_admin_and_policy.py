"""Who may configure single sign-on, discovery on save, the joining policy, sso_required and closed registration."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.courses import make_campus, make_stranger
from tests.fixtures.factories import DEFAULT_PASSWORD, auth_headers, grant_role, make_user
from tests.fixtures.oidc_provider import CLIENT_SECRET, OidcProvider
from tests.fixtures.tenancy import make_platform_admin
from tests.sso.conftest import API, SsoCampus, config_body, set_policy
from twosigma.config import Settings
from twosigma.enums import UserRole
from twosigma.sso.models import SsoProvider


def _sso_url(sso: SsoCampus) -> str:
    return f"{API}/universities/{sso.university_id}/sso"


class TestWhoMayConfigure:
    async def test_the_admin_reads_it_with_the_secret_masked(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, sso: SsoCampus
    ) -> None:
        r = await client.get(_sso_url(sso), headers=auth_headers(settings, sso.campus.admin))
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["client_secret"] == "••••" + CLIENT_SECRET[-4:]
        assert CLIENT_SECRET not in r.text
        assert body["jwks_uri"] == f"{sso.idp.url}/jwks"
        assert body["login_url"].endswith(f"/api/v1/auth/sso/{sso.short_code}/login")
        stored = (await db.scalars(select(SsoProvider).where(SsoProvider.university_id == sso.university_id))).one()
        assert CLIENT_SECRET not in stored.client_secret_encrypted

    async def test_another_universitys_admin_gets_404_for_every_method(
        self, client: httpx.AsyncClient, settings: Settings, sso: SsoCampus
    ) -> None:
        outsider = auth_headers(settings, sso.campus.outsider_admin)
        assert (await client.get(_sso_url(sso), headers=outsider)).status_code == 404
        r = await client.put(_sso_url(sso), json=config_body(sso.idp, client_id="mine"), headers=outsider)
        assert r.status_code == 404
        assert (await client.delete(_sso_url(sso), headers=outsider)).status_code == 404
        policy = f"{API}/universities/{sso.university_id}/access-policy"
        assert (await client.get(policy, headers=outsider)).status_code == 404
        assert (await client.put(policy, json={"sso_required": True}, headers=outsider)).status_code == 404

    async def test_members_without_the_admin_role_get_403_and_anonymous_401(
        self, client: httpx.AsyncClient, settings: Settings, sso: SsoCampus
    ) -> None:
        for member in (sso.campus.instructor, sso.campus.student):
            assert (await client.get(_sso_url(sso), headers=auth_headers(settings, member))).status_code == 403
        assert (await client.get(_sso_url(sso))).status_code == 401

    async def test_a_platform_admin_may(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, sso: SsoCampus
    ) -> None:
        admin = await make_platform_admin(db)
        assert (await client.get(_sso_url(sso), headers=auth_headers(settings, admin))).status_code == 200

    async def test_saving_without_a_secret_keeps_the_stored_one_and_delete_removes_it(
        self, client: httpx.AsyncClient, settings: Settings, sso: SsoCampus
    ) -> None:
        headers = auth_headers(settings, sso.campus.admin)
        body = config_body(sso.idp, scopes=["openid", "email"], claim_role="eduPersonAffiliation")
        del body["client_secret"]
        r = await client.put(_sso_url(sso), json=body, headers=headers)
        assert r.status_code == 200, r.text
        assert (r.json()["client_secret"], r.json()["scopes"]) == ("••••" + CLIENT_SECRET[-4:], ["openid", "email"])
        assert (await client.delete(_sso_url(sso), headers=headers)).status_code == 204
        assert (await client.get(_sso_url(sso), headers=headers)).status_code == 404
        assert (await client.get(f"{API}/auth/sso/{sso.short_code}/login")).status_code == 404


class TestDiscoveryOnSave:
    async def test_an_unreachable_issuer_is_a_422_and_nothing_is_stored(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, sso: SsoCampus, idp: OidcProvider
    ) -> None:
        body = config_body(idp, issuer="http://127.0.0.1:9")
        r = await client.put(_sso_url(sso), json=body, headers=auth_headers(settings, sso.campus.admin))
        assert (r.status_code, r.json()["error"]["code"]) == (422, "sso_discovery_failed")
        stored = (await db.scalars(select(SsoProvider).where(SsoProvider.university_id == sso.university_id))).one()
        assert stored.issuer == idp.issuer

    async def test_a_document_naming_another_issuer_is_a_422(
        self, client: httpx.AsyncClient, settings: Settings, sso: SsoCampus, idp: OidcProvider
    ) -> None:
        body = config_body(idp, issuer=idp.issuer + "/")
        r = await client.put(_sso_url(sso), json=body, headers=auth_headers(settings, sso.campus.admin))
        assert (r.status_code, r.json()["error"]["code"]) == (422, "sso_discovery_inconsistent")
        assert r.json()["error"]["details"] == {"issuer": idp.issuer}

    async def test_a_first_save_needs_a_secret_and_scopes_need_openid(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, idp: OidcProvider
    ) -> None:
        campus = await make_campus(db)
        url = f"{API}/universities/{campus.university.id}/sso"
        headers = auth_headers(settings, campus.admin)
        body = config_body(idp)
        del body["client_secret"]
        assert (await client.put(url, json=body, headers=headers)).status_code == 422
        r = await client.put(url, json=config_body(idp, scopes=["email"]), headers=headers)
        assert r.status_code == 422


class TestSsoRequired:
    async def test_members_cannot_sign_in_with_a_password(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, sso: SsoCampus
    ) -> None:
        await set_policy(client, settings, sso, sso_required=True)
        r = await client.post(
            f"{API}/auth/login", json={"email": sso.campus.student.email, "password": DEFAULT_PASSWORD}
        )
        assert (r.status_code, r.json()["error"]["code"]) == (403, "sso_required")
        assert r.json()["error"]["details"]["login_url"].endswith(f"/api/v1/auth/sso/{sso.short_code}/login")
        form = {"username": sso.campus.admin.email, "password": DEFAULT_PASSWORD}
        assert (await client.post(f"{API}/auth/token", data=form)).status_code == 403

    async def test_a_wrong_password_still_answers_401(
        self, client: httpx.AsyncClient, settings: Settings, sso: SsoCampus
    ) -> None:
        await set_policy(client, settings, sso, sso_required=True)
        r = await client.post(f"{API}/auth/login", json={"email": sso.campus.student.email, "password": "wrong-pass-1"})
        assert r.status_code == 401

    async def test_others_and_platform_admins_still_sign_in_with_a_password(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, sso: SsoCampus
    ) -> None:
        await set_policy(client, settings, sso, sso_required=True)
        platform_admin = await make_platform_admin(db)
        await grant_role(db, platform_admin, sso.campus.university, UserRole.STUDENT)
        for user in (sso.campus.outsider, platform_admin):
            r = await client.post(f"{API}/auth/login", json={"email": user.email, "password": DEFAULT_PASSWORD})
            assert r.status_code == 200, r.text

    async def test_a_disabled_provider_lifts_the_requirement_and_sso_required_needs_one(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, sso: SsoCampus
    ) -> None:
        await set_policy(client, settings, sso, sso_required=True)
        headers = auth_headers(settings, sso.campus.admin)
        del_body = config_body(sso.idp, enabled=False)
        assert (
            await client.put(f"{API}/universities/{sso.university_id}/sso", json=del_body, headers=headers)
        ).status_code == 200
        r = await client.post(
            f"{API}/auth/login", json={"email": sso.campus.student.email, "password": DEFAULT_PASSWORD}
        )
        assert r.status_code == 200
        r = await client.put(
            f"{API}/universities/{sso.university_id}/access-policy", json={"sso_required": True}, headers=headers
        )
        assert (r.status_code, r.json()["error"]["code"]) == (409, "sso_not_configured")


class TestWhoMayJoin:
    async def test_the_policy_reads_back_normalised(
        self, client: httpx.AsyncClient, settings: Settings, sso: SsoCampus
    ) -> None:
        await set_policy(
            client,
            settings,
            sso,
            allowed_email_domains=["Uni.Example", "@lab.uni.example"],
            require_verified_email=True,
        )
        r = await client.get(
            f"{API}/universities/{sso.university_id}/access-policy", headers=auth_headers(settings, sso.campus.admin)
        )
        assert r.json() == {
            "university_id": sso.university_id,
            "sso_required": False,
            "allowed_email_domains": ["lab.uni.example", "uni.example"],
            "require_verified_email": True,
            "chat_retention_days": None,
        }

    async def test_a_bad_domain_is_a_422(self, client: httpx.AsyncClient, settings: Settings, sso: SsoCampus) -> None:
        r = await client.put(
            f"{API}/universities/{sso.university_id}/access-policy",
            json={"allowed_email_domains": ["https://uni.example"]},
            headers=auth_headers(settings, sso.campus.admin),
        )
        assert r.status_code == 422

    async def test_self_enrolment_only_for_allowed_domains(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, sso: SsoCampus
    ) -> None:
        await set_policy(client, settings, sso, allowed_email_domains=["uni.example"])
        enrol = f"{API}/offerings/{sso.campus.offering.id}/enroll"
        stranger = await make_stranger(db)  # user…@example.edu
        r = await client.post(enrol, headers=auth_headers(settings, stranger))
        assert (r.status_code, r.json()["error"]["code"]) == (403, "email_domain_not_allowed")
        insider = await make_user(db, email="dana@uni.example")
        assert (await client.post(enrol, headers=auth_headers(settings, insider))).status_code == 201
        # A member already admitted by the university (here its TA) is not asked again.
        assert (await client.post(enrol, headers=auth_headers(settings, sso.campus.ta))).status_code == 201

    async def test_a_university_requiring_verified_email_enrols_only_verified_accounts(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, sso: SsoCampus
    ) -> None:
        await set_policy(client, settings, sso, require_verified_email=True)
        enrol = f"{API}/offerings/{sso.campus.offering.id}/enroll"
        unverified = await make_user(db, email="eli@uni.example")
        r = await client.post(enrol, headers=auth_headers(settings, unverified))
        assert (r.status_code, r.json()["error"]["code"]) == (403, "email_not_verified")
        # Members too: the university asks it of everyone who enrols themselves.
        r = await client.post(enrol, headers=auth_headers(settings, sso.campus.ta))
        assert (r.status_code, r.json()["error"]["code"]) == (403, "email_not_verified")
        unverified.email_verified_at = datetime.now(UTC)
        await db.flush()
        assert (await client.post(enrol, headers=auth_headers(settings, unverified))).status_code == 201


class TestRegistrationClosed:
    async def test_both_sign_up_routes_answer_403(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        admin = await make_platform_admin(db)
        r = await client.put(
            f"{API}/admin/settings/auth.allow_self_registration",
            json={"value": False},
            headers=auth_headers(settings, admin),
        )
        assert r.status_code == 200, r.text
        body = {"email": "new@uni.example", "password": "learning-2-fly", "full_name": "New"}
        r = await client.post(f"{API}/auth/register", json=body)
        assert (r.status_code, r.json()["error"]["code"]) == (403, "registration_closed")
        r = await client.post(f"{API}/auth/register-with-onboarding", json={**body, "profile": {}})
        assert (r.status_code, r.json()["error"]["code"]) == (403, "registration_closed")

    async def test_open_by_default(self, client: httpx.AsyncClient) -> None:
        body = {"email": "open@uni.example", "password": "learning-2-fly", "full_name": "Open"}
        assert (await client.post(f"{API}/auth/register", json=body)).status_code == 201
