"""The LTI security review (docs/lti.md, "Security"): identities belong to the platform registration that created
them, course roles come from the launch's context roles only (scoped to the course's department), the admin role is
a platform's opt-in, every platform-supplied URL passes one outbound guard and service URLs stay on the platform's
origins, and CSP frame-ancestors are rebuilt from validated URL parts."""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.courses import make_campus
from tests.fixtures.factories import auth_headers
from tests.fixtures.lti_platform import (
    ADMINISTRATOR,
    CLIENT_ID,
    DEPLOYMENT_ID,
    INSTRUCTOR,
    LEARNER,
    REGISTRATION_TOKEN,
    LaunchSpec,
    TestPlatform,
    random_sub,
)
from tests.lti.conftest import API, LtiCampus, launch, launched_query, link_context, local
from twosigma.config import Environment, Settings
from twosigma.enrollments.models import CourseEnrollment
from twosigma.enums import UserRole
from twosigma.lti.models import LtiContext, LtiIdentity, LtiLineItem, LtiPlatform
from twosigma.lti.services import outbound
from twosigma.lti.services.access_tokens import ServiceCallFailed, token_cache
from twosigma.lti.services.accounts import map_roles, origin
from twosigma.lti.services.roster import fetch_members
from twosigma.lti.services.verification import LAUNCH_PRESENTATION
from twosigma.tenancy.models import UserUniversityRole

CONTEXT_ADMIN = "http://purl.imsglobal.org/vocab/lis/v2/membership#Administrator"
INSTITUTION_INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Instructor"
SYSTEM_ADMIN = "http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator"


@pytest.fixture(autouse=True)
def _fresh_tokens() -> None:
    token_cache().clear()


async def _user_id(db: AsyncSession, platform_id: int, sub: str) -> int:
    identity = (
        await db.scalars(select(LtiIdentity).where(LtiIdentity.platform_id == platform_id, LtiIdentity.subject == sub))
    ).one()
    return identity.user_id


async def _grants(db: AsyncSession, user_id: int) -> set[tuple[int, UserRole, int | None]]:
    """The staff grants (an enrolment brings its own STUDENT membership, not counted)."""
    rows = await db.execute(
        select(UserUniversityRole.university_id, UserUniversityRole.role, UserUniversityRole.department_id).where(
            UserUniversityRole.user_id == user_id, UserUniversityRole.role != UserRole.STUDENT
        )
    )
    return {(r.university_id, r.role, r.department_id) for r in rows}


async def _second_platform(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, lti: LtiCampus, deployment: str
) -> tuple[int, int]:
    """University B's admin registers the same issuer (as Canvas cloud instances share one) under another client id
    and deployment; B's instructor links B's offering to "evil-course". (platform id, university id)"""
    campus_b = await make_campus(db)
    r = await client.post(
        f"{API}/universities/{campus_b.university.id}/lti/platforms",
        json=lti.platform.registration_body(client_id="evil-client", deployment_ids=[deployment]),
        headers=auth_headers(settings, campus_b.admin),
    )
    assert r.status_code == 201, r.text
    ctx = await client.put(
        f"{API}/offerings/{campus_b.offering.id}/lti-context",
        json={"platform_id": r.json()["id"], "context_id": "evil-course"},
        headers=auth_headers(settings, campus_b.instructor),
    )
    assert ctx.status_code == 200, ctx.text
    return int(r.json()["id"]), campus_b.university.id


class TestIdentityBelongsToItsPlatform:
    async def test_another_universitys_platform_of_the_same_issuer_cannot_sign_in_as_a_victim(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, lti: LtiCampus
    ) -> None:
        victim_sub = random_sub()
        r = await launch(client, lti.platform, LaunchSpec(sub=victim_sub, roles=[INSTRUCTOR], email="prof@uni-a.edu"))
        assert r.status_code == 200, r.text  # the link-choice page: the victim's account exists
        victim = await _user_id(db, lti.platform_id, victim_sub)
        evil_id, _ = await _second_platform(client, db, settings, lti, "evil-deployment")
        lti.platform.registration.set_client_id("evil-client").set_deployment_id("evil-deployment")
        try:
            r2 = await launch(
                client, lti.platform, LaunchSpec(sub=victim_sub, roles=[LEARNER], context_id="evil-course")
            )
        finally:
            lti.platform.registration.set_client_id(CLIENT_ID).set_deployment_id(DEPLOYMENT_ID)
        tokens = await client.post(f"{API}/auth/lti/exchange", json={"code": launched_query(r2)["code"]})
        assert tokens.status_code == 200, tokens.text
        me = await client.get(f"{API}/users/me", headers={"Authorization": f"Bearer {tokens.json()['access_token']}"})
        assert me.json()["email"] != "prof@uni-a.edu"
        assert me.json()["id"] != victim
        assert await _user_id(db, evil_id, victim_sub) == me.json()["id"]  # B's own identity of that sub
        assert await _user_id(db, lti.platform_id, victim_sub) == victim  # A's untouched

    async def test_a_login_without_client_id_is_told_apart_by_its_deployment(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        lti: LtiCampus,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        await _second_platform(client, db, settings, lti, "deployment-b")
        url = urlsplit(lti.platform.login_initiation_url(LaunchSpec(sub=random_sub(), roles=[LEARNER])))
        params = {k: v[0] for k, v in parse_qs(url.query).items() if k != "client_id"}
        for deployment, client_id in ((DEPLOYMENT_ID, CLIENT_ID), ("deployment-b", "evil-client")):
            r = await client.get(f"{url.path}?{urlencode({**params, 'lti_deployment_id': deployment})}")
            assert r.status_code == 302, r.text
            assert parse_qs(urlsplit(r.headers["location"]).query)["client_id"] == [client_id]
        params.pop("lti_deployment_id", None)
        with caplog.at_level(logging.WARNING, logger="twosigma.lti"):
            ambiguous = await client.get(f"{url.path}?{urlencode(params)}")
        assert ambiguous.status_code == 400
        assert "lti_launch_refused" in ambiguous.text
        assert "several registered platforms" in caplog.text
        unknown = await client.get(f"{url.path}?{urlencode({**params, 'lti_deployment_id': 'nobody'})}")
        assert unknown.status_code == 400

    async def test_dynamic_registration_compares_origins_not_string_prefixes(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, platform: TestPlatform
    ) -> None:
        campus = await make_campus(db)
        r = await client.post(
            f"{API}/universities/{campus.university.id}/lti/registration-links",
            headers=auth_headers(settings, campus.admin),
        )
        link = urlsplit(r.json()["url"]).query.removeprefix("link=")
        # http://127.0.0.1:4321 is a string prefix of http://127.0.0.1:43210/..., and another origin (port).
        platform.config_issuer = platform.url[:-1]
        answer = await client.get(
            "/lti/register",
            params={
                "link": link,
                "openid_configuration": f"{platform.url}/.well-known/openid-configuration",
                "registration_token": REGISTRATION_TOKEN,
            },
        )
        assert answer.status_code == 400, answer.text
        assert "origin" in answer.text
        assert platform.tool_registrations == []
        assert (await db.scalars(select(LtiPlatform).where(LtiPlatform.issuer == platform.url[:-1]))).first() is None

    def test_same_origin_is_scheme_host_and_port(self) -> None:
        assert outbound.same_origin("https://lms.x.edu/.well-known/c", "https://lms.x.edu")
        assert outbound.same_origin("https://lms.x.edu:443/a", "https://LMS.x.edu/b")
        assert not outbound.same_origin("https://lms.x.edu.evil.net/c", "https://lms.x.edu")
        assert not outbound.same_origin("https://lms.x.edu:8443/c", "https://lms.x.edu")
        assert not outbound.same_origin("http://lms.x.edu/c", "https://lms.x.edu")
        assert not outbound.same_origin("https://lms.x.edu@evil.net/c", "https://lms.x.edu")


class TestRoles:
    @pytest.mark.parametrize(
        ("roles", "grant_admin", "expected"),
        [
            ([LEARNER, INSTITUTION_INSTRUCTOR], False, {UserRole.STUDENT}),
            ([CONTEXT_ADMIN], False, {UserRole.INSTRUCTOR}),
            ([CONTEXT_ADMIN], True, {UserRole.INSTRUCTOR}),
            ([ADMINISTRATOR], False, set()),
            ([ADMINISTRATOR], True, {UserRole.UNIVERSITY_ADMIN}),
            ([SYSTEM_ADMIN, LEARNER], True, {UserRole.UNIVERSITY_ADMIN, UserRole.STUDENT}),
            (["http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"], False, {UserRole.TA}),
            (["Instructor"], False, {UserRole.INSTRUCTOR}),
            (["urn:lti:role:ims/lis/Learner"], False, {UserRole.STUDENT}),
            (["urn:lti:instrole:ims/lis/Instructor"], False, set()),
            (["http://purl.imsglobal.org/vocab/lis/v2/institution/person#Student"], False, set()),
            (["https://evil.example/x#Administrator"], True, set()),
        ],
    )
    def test_only_context_roles_decide_course_roles(
        self, roles: list[str], grant_admin: bool, expected: set[UserRole]
    ) -> None:
        assert map_roles(roles, grant_admin=grant_admin) == expected

    async def test_a_learner_with_an_institution_instructor_role_is_a_student_only(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, lti: LtiCampus
    ) -> None:
        await link_context(client, settings, lti, "course-101")
        sub = random_sub()
        launched_query(await launch(client, lti.platform, LaunchSpec(sub=sub, roles=[LEARNER, INSTITUTION_INSTRUCTOR])))
        user = await _user_id(db, lti.platform_id, sub)
        assert await _grants(db, user) == set()
        enrolment = await db.scalars(
            select(CourseEnrollment).where(
                CourseEnrollment.user_id == user, CourseEnrollment.course_offering_id == lti.campus.offering.id
            )
        )
        assert enrolment.first() is not None

    async def test_a_course_administrator_is_an_instructor_of_the_courses_department_only(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, lti: LtiCampus
    ) -> None:
        await link_context(client, settings, lti, "course-101")
        sub = random_sub()
        launched_query(await launch(client, lti.platform, LaunchSpec(sub=sub, roles=[CONTEXT_ADMIN])))
        assert await _grants(db, await _user_id(db, lti.platform_id, sub)) == {
            (lti.university_id, UserRole.INSTRUCTOR, lti.campus.department.id)
        }

    async def test_the_institution_administrator_is_university_admin_only_where_the_platform_opted_in(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, lti: LtiCampus
    ) -> None:
        await link_context(client, settings, lti, "course-101")
        before = random_sub()
        launched_query(await launch(client, lti.platform, LaunchSpec(sub=before, roles=[ADMINISTRATOR])))
        assert await _grants(db, await _user_id(db, lti.platform_id, before)) == set()
        r = await client.patch(
            f"{API}/universities/{lti.university_id}/lti/platforms/{lti.platform_id}",
            json={"grant_admin_role": True},
            headers=auth_headers(settings, lti.campus.admin),
        )
        assert r.status_code == 200, r.text
        assert r.json()["grant_admin_role"] is True
        after = random_sub()
        launched_query(await launch(client, lti.platform, LaunchSpec(sub=after, roles=[ADMINISTRATOR])))
        assert await _grants(db, await _user_id(db, lti.platform_id, after)) == {
            (lti.university_id, UserRole.UNIVERSITY_ADMIN, None)
        }

    async def test_the_linking_instructor_is_instructor_of_the_chosen_courses_department(
        self, client: httpx.AsyncClient, db: AsyncSession, lti: LtiCampus
    ) -> None:
        sub = random_sub()
        page = await launch(client, lti.platform, LaunchSpec(sub=sub, roles=[INSTRUCTOR], context_id="new-course"))
        assert page.status_code == 200, page.text
        user = await _user_id(db, lti.platform_id, sub)
        assert await _grants(db, user) == set()  # nothing stored before the choice
        token = page.text.split('name="token" value="', 1)[1].split('"', 1)[0]
        r = await client.post("/lti/link", data={"token": token, "choice": f"offering:{lti.campus.offering.id}"})
        assert r.status_code == 303, r.text
        assert await _grants(db, user) == {(lti.university_id, UserRole.INSTRUCTOR, lti.campus.department.id)}

    async def test_roster_sync_maps_roles_the_same_way(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, lti: LtiCampus
    ) -> None:
        await link_context(client, settings, lti, "course-101")
        url = f"{lti.platform.url}/memberships/course-101"
        launched_query(
            await launch(client, lti.platform, LaunchSpec(sub=random_sub(), roles=[LEARNER], memberships_url=url))
        )
        lti.platform.trust_tool_keys((await client.get("/lti/jwks.json")).json())
        lti.platform.members["course-101"] = [
            lti.platform.member("m-learner", [LEARNER, INSTITUTION_INSTRUCTOR]),
            lti.platform.member("m-admin", [CONTEXT_ADMIN, ADMINISTRATOR]),
        ]
        r = await client.post(
            f"{API}/offerings/{lti.campus.offering.id}/lti/sync-roster",
            headers=auth_headers(settings, lti.campus.instructor),
        )
        assert r.status_code == 200, r.text
        assert await _grants(db, await _user_id(db, lti.platform_id, "m-learner")) == set()
        assert await _grants(db, await _user_id(db, lti.platform_id, "m-admin")) == {
            (lti.university_id, UserRole.INSTRUCTOR, lti.campus.department.id)
        }


class TestOutboundUrls:
    async def test_the_guard_refuses_private_and_plain_http_urls_in_production(self, settings: Settings) -> None:
        production = settings.model_copy(update={"environment": Environment.PRODUCTION})
        assert await outbound.refusal(settings, "http://127.0.0.1:9/x") is None  # tests and development: relaxed
        assert "not https" in (await outbound.refusal(production, "http://example.com/x") or "")
        for url in ("https://127.0.0.1/x", "https://10.1.2.3/x", "https://169.254.169.254/latest", "https://[::1]/"):
            assert "public" in (await outbound.refusal(production, url) or ""), url
        assert "not an http(s) URL" in (await outbound.refusal(production, "file:///etc/passwd") or "")

    async def test_in_production_a_private_membership_service_is_never_fetched(
        self, db: AsyncSession, settings: Settings, lti: LtiCampus
    ) -> None:
        production = settings.model_copy(update={"environment": Environment.PRODUCTION})
        platform = await db.get(LtiPlatform, lti.platform_id)
        assert platform is not None
        tokens_before = lti.platform.token_requests
        with pytest.raises(ServiceCallFailed, match="is not https"):
            await fetch_members(db, production, platform, f"{lti.platform.url}/memberships/course-101")
        assert lti.platform.membership_requests == 0
        assert lti.platform.token_requests == tokens_before

    async def test_in_production_a_private_platform_cannot_be_registered(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, platform: TestPlatform
    ) -> None:
        from twosigma.lti.schemas import PlatformCreate
        from twosigma.lti.services import platforms

        campus = await make_campus(db)
        production = settings.model_copy(update={"environment": Environment.PRODUCTION})
        body = PlatformCreate.model_validate(platform.registration_body())
        with pytest.raises(platforms.PlatformUrlRefused) as refused:
            await platforms.create_platform(db, production, campus.university, body)
        assert refused.value.status_code == 422
        assert "auth_login_url" in refused.value.message

    async def test_a_next_page_on_another_origin_is_refused(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, lti: LtiCampus
    ) -> None:
        await link_context(client, settings, lti, "course-101")
        url = f"{lti.platform.url}/memberships/course-101"
        launched_query(
            await launch(client, lti.platform, LaunchSpec(sub=random_sub(), roles=[LEARNER], memberships_url=url))
        )
        lti.platform.trust_tool_keys((await client.get("/lti/jwks.json")).json())
        lti.platform.members["course-101"] = [lti.platform.member(random_sub(), [LEARNER]) for _ in range(3)]
        lti.platform.next_link_base = lti.platform.url.replace("127.0.0.1", "localhost")
        r = await client.post(
            f"{API}/offerings/{lti.campus.offering.id}/lti/sync-roster",
            headers=auth_headers(settings, lti.campus.instructor),
        )
        assert r.status_code == 502, r.text
        assert "not on its origin" in r.json()["error"]["details"]["reason"]
        assert lti.platform.membership_requests == 1  # the first page only

    async def test_a_line_item_on_another_origin_is_not_bound(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, lti: LtiCampus
    ) -> None:
        await link_context(client, settings, lti, "course-101")
        elsewhere = lti.platform.url.replace("127.0.0.1", "localhost")
        spec = LaunchSpec(sub=random_sub(), roles=[LEARNER], lineitem_url=f"{elsewhere}/lineitems/1/lineitem")
        launched_query(await launch(client, lti.platform, spec))
        context = (await db.scalars(select(LtiContext).where(LtiContext.context_id == "course-101"))).one()
        assert (await db.scalars(select(LtiLineItem).where(LtiLineItem.lti_context_id == context.id))).first() is None
        own = LaunchSpec(sub=random_sub(), roles=[LEARNER], lineitem_url=f"{lti.platform.url}/lineitems/1/lineitem")
        launched_query(await launch(client, lti.platform, own))
        assert (await db.scalars(select(LtiLineItem).where(LtiLineItem.lti_context_id == context.id))).first()


class TestFrameAncestors:
    @pytest.mark.parametrize(
        ("url", "expected"),
        [
            ("https://lms.example.edu/courses/1", "https://lms.example.edu"),
            ("https://LMS.example.edu:8443/x", "https://lms.example.edu:8443"),
            ("https://user:pw@lms.example.edu/x", "https://lms.example.edu"),
            ("https://bücher.example/x", "https://xn--bcher-kva.example"),
            ("http://[::1]:8080/x", "http://[::1]:8080"),
            ("https://a.com;report-uri https://x.example/", None),
            ("https://a.com%20report-uri/", None),
            ("https://a.com*/", None),
            ("javascript:alert(1)", None),
            ("https://a.com:99999/", None),
        ],
    )
    def test_the_origin_is_rebuilt_from_validated_parts(self, url: str, expected: str | None) -> None:
        assert origin(url) == expected

    async def test_a_return_url_cannot_inject_a_csp_directive(
        self, client: httpx.AsyncClient, settings: Settings, lti: LtiCampus
    ) -> None:
        await link_context(client, settings, lti, "course-101")
        lti.platform.claim_overrides = {LAUNCH_PRESENTATION: {"return_url": "https://a.com;report-uri https://x.test"}}
        query = launched_query(await launch(client, lti.platform, LaunchSpec(sub=random_sub(), roles=[LEARNER])))
        page = await client.get(local(f"/lti/launched?{urlencode({'code': query['code']})}"))
        csp = page.headers["content-security-policy"]
        assert "report-uri" not in csp
        assert f"frame-ancestors {lti.platform.url}" in csp
