"""The launch, end to end against the test platform: login, the platform's authentication, the verified launch,
the one-time code; the instructor's first launch into an unlinked LMS course; roles."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.courses import make_campus
from tests.fixtures.factories import auth_headers, make_user
from tests.fixtures.lti_platform import (
    ADMINISTRATOR,
    INSTRUCTOR,
    LEARNER,
    TEACHING_ASSISTANT,
    LaunchSpec,
    random_sub,
)
from tests.lti.conftest import API, LtiCampus, launch, launched_query, link_context, local
from twosigma.config import Settings
from twosigma.courses.models import CourseOffering
from twosigma.enrollments.models import CourseEnrollment
from twosigma.enums import EnrollmentStatus, UserRole
from twosigma.lti.models import LtiContext, LtiIdentity, LtiPlatform
from twosigma.tenancy.models import UserUniversityRole
from twosigma.users.models import User


async def _identity_user(db: AsyncSession, issuer: str, sub: str) -> User | None:
    identity = (
        await db.scalars(select(LtiIdentity).where(LtiIdentity.issuer == issuer, LtiIdentity.subject == sub))
    ).first()
    return None if identity is None else await db.get(User, identity.user_id)


async def _roles(db: AsyncSession, user: User, university_id: int) -> set[UserRole]:
    rows = await db.scalars(
        select(UserUniversityRole.role).where(
            UserUniversityRole.user_id == user.id, UserUniversityRole.university_id == university_id
        )
    )
    return set(rows.all())


async def _enrollment(db: AsyncSession, user: User, offering_id: int) -> CourseEnrollment | None:
    return (
        await db.scalars(
            select(CourseEnrollment).where(
                CourseEnrollment.user_id == user.id, CourseEnrollment.course_offering_id == offering_id
            )
        )
    ).first()


def learner(**overrides: Any) -> LaunchSpec:
    return LaunchSpec(sub=random_sub(), roles=[LEARNER], **overrides)


class TestLearnerLaunch:
    async def test_a_learner_lands_on_the_item_with_a_one_time_code_and_is_enrolled_active(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, lti: LtiCampus
    ) -> None:
        await link_context(client, settings, lti, "course-101")
        spec = learner(email="lee@lms.example.edu", custom={"content_item_id": "42"})
        r = await launch(client, lti.platform, spec)
        query = launched_query(r)
        assert query["content_item_id"] == "42"
        assert f"frame-ancestors {lti.platform.url}" in r.headers["content-security-policy"]
        user = await _identity_user(db, lti.platform.issuer, spec.sub)
        assert user is not None
        assert user.email == "lee@lms.example.edu"
        assert user.full_name == "Lee Learner"
        enrollment = await _enrollment(db, user, lti.campus.offering.id)
        assert enrollment is not None
        assert enrollment.status is EnrollmentStatus.ACTIVE
        assert await _roles(db, user, lti.university_id) == {UserRole.STUDENT}

        exchanged = await client.post(f"{API}/auth/lti/exchange", json={"code": query["code"]})
        assert exchanged.status_code == 200, exchanged.text
        me = await client.get(
            f"{API}/users/me", headers={"Authorization": f"Bearer {exchanged.json()['access_token']}"}
        )
        assert me.json()["id"] == user.id
        again = await client.post(f"{API}/auth/lti/exchange", json={"code": query["code"]})
        assert again.status_code == 400
        assert again.json()["error"]["code"] == "lti_code_invalid"

    async def test_the_launched_page_may_be_framed_by_the_platform_only(
        self, client: httpx.AsyncClient, settings: Settings, lti: LtiCampus
    ) -> None:
        await link_context(client, settings, lti, "course-101")
        query = launched_query(await launch(client, lti.platform, learner()))
        page = await client.get("/lti/launched", params={"code": query["code"]})
        assert page.status_code == 200
        csp = page.headers["content-security-policy"]
        assert f"frame-ancestors {lti.platform.url}" in csp
        assert "frame-ancestors 'none'" not in csp
        assert "script-src 'self'" in csp
        unknown = await client.get("/lti/launched", params={"code": "made-up"})
        assert "frame-ancestors 'none'" in unknown.headers["content-security-policy"]

    async def test_a_second_launch_of_the_same_person_finds_the_same_account(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, lti: LtiCampus
    ) -> None:
        await link_context(client, settings, lti, "course-101")
        spec = learner()
        launched_query(await launch(client, lti.platform, spec))
        launched_query(await launch(client, lti.platform, spec))
        count = await db.scalar(select(func.count()).select_from(LtiIdentity).where(LtiIdentity.subject == spec.sub))
        assert count == 1

    async def test_an_existing_account_with_the_asserted_email_is_never_merged(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, lti: LtiCampus
    ) -> None:
        await link_context(client, settings, lti, "course-101")
        existing = await make_user(db, email="taken@example.edu")
        spec = learner(email="taken@example.edu")
        launched_query(await launch(client, lti.platform, spec))
        user = await _identity_user(db, lti.platform.issuer, spec.sub)
        assert user is not None
        assert user.id != existing.id
        assert user.email.endswith("@lti.invalid")

    async def test_a_learner_in_an_unlinked_course_is_told_it_is_not_set_up_and_nothing_is_created(
        self, client: httpx.AsyncClient, db: AsyncSession, lti: LtiCampus
    ) -> None:
        users = await db.scalar(select(func.count()).select_from(User))
        spec = learner(context_id="not-linked")
        r = await launch(client, lti.platform, spec)
        assert r.status_code == 409
        assert r.headers["content-type"].startswith("text/html")
        assert "not set up yet" in r.text
        assert await db.scalar(select(func.count()).select_from(User)) == users
        assert await _identity_user(db, lti.platform.issuer, spec.sub) is None


class TestRoles:
    async def test_a_teaching_assistant_becomes_ta_and_is_not_enrolled(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, lti: LtiCampus
    ) -> None:
        await link_context(client, settings, lti, "course-101")
        spec = LaunchSpec(sub=random_sub(), roles=[TEACHING_ASSISTANT])
        launched_query(await launch(client, lti.platform, spec))
        user = await _identity_user(db, lti.platform.issuer, spec.sub)
        assert user is not None
        assert await _roles(db, user, lti.university_id) == {UserRole.TA}
        assert await _enrollment(db, user, lti.campus.offering.id) is None

    async def test_an_lms_administrator_becomes_admin_of_that_university_only(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, lti: LtiCampus
    ) -> None:
        await link_context(client, settings, lti, "course-101")
        # The institution Administrator is a university admin only on a platform that opted in (docs/lti.md).
        await db.execute(update(LtiPlatform).where(LtiPlatform.id == lti.platform_id).values(grant_admin_role=True))
        spec = LaunchSpec(sub=random_sub(), roles=[ADMINISTRATOR])
        launched_query(await launch(client, lti.platform, spec))
        user = await _identity_user(db, lti.platform.issuer, spec.sub)
        assert user is not None
        grants = (await db.scalars(select(UserUniversityRole).where(UserUniversityRole.user_id == user.id))).all()
        assert [(g.university_id, g.role) for g in grants] == [(lti.university_id, UserRole.UNIVERSITY_ADMIN)]


class TestInstructorLinksTheCourse:
    async def test_first_instructor_launch_asks_which_offering_and_links_it(
        self, client: httpx.AsyncClient, db: AsyncSession, lti: LtiCampus
    ) -> None:
        spec = LaunchSpec(sub=random_sub(), roles=[INSTRUCTOR], context_id="new-course", custom={"content_item_id": 7})
        page = await launch(client, lti.platform, spec)
        assert page.status_code == 200, page.text
        assert f"frame-ancestors {lti.platform.url}" in page.headers["content-security-policy"]
        assert f'value="offering:{lti.campus.offering.id}"' in page.text
        token = page.text.split('name="token" value="')[1].split('"')[0]
        r = await client.post("/lti/link", data={"token": token, "choice": f"offering:{lti.campus.offering.id}"})
        assert launched_query(r)["content_item_id"] == "7"
        context = (await db.scalars(select(LtiContext).where(LtiContext.context_id == "new-course"))).one()
        assert context.course_offering_id == lti.campus.offering.id
        user = await _identity_user(db, lti.platform.issuer, spec.sub)
        assert user is not None
        assert await _roles(db, user, lti.university_id) == {UserRole.INSTRUCTOR}
        replay = await client.post("/lti/link", data={"token": token, "choice": f"offering:{lti.campus.offering.id}"})
        assert replay.status_code == 400

    async def test_the_instructor_may_open_a_new_offering_of_a_course(
        self, client: httpx.AsyncClient, db: AsyncSession, lti: LtiCampus
    ) -> None:
        spec = LaunchSpec(sub=random_sub(), roles=[INSTRUCTOR], context_id="fresh", context_title="Spring 27 (LMS)")
        page = await launch(client, lti.platform, spec)
        token = page.text.split('name="token" value="')[1].split('"')[0]
        r = await client.post("/lti/link", data={"token": token, "choice": f"course:{lti.campus.course.id}"})
        launched_query(r)
        context = (await db.scalars(select(LtiContext).where(LtiContext.context_id == "fresh"))).one()
        offering = await db.get(CourseOffering, context.course_offering_id)
        assert offering is not None
        assert offering.term_name == "Spring 27 (LMS)"
        assert offering.course_id == lti.campus.course.id

    async def test_an_offering_of_another_university_cannot_be_chosen(
        self, client: httpx.AsyncClient, db: AsyncSession, lti: LtiCampus
    ) -> None:
        other = await make_campus(db)
        page = await launch(client, lti.platform, LaunchSpec(sub=random_sub(), roles=[INSTRUCTOR], context_id="x"))
        token = page.text.split('name="token" value="')[1].split('"')[0]
        r = await client.post("/lti/link", data={"token": token, "choice": f"offering:{other.offering.id}"})
        assert r.status_code == 404
        assert (await db.scalars(select(LtiContext).where(LtiContext.context_id == "x"))).first() is None


class TestStaffLinkDirectly:
    async def test_a_platform_of_another_university_is_404(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, lti: LtiCampus
    ) -> None:
        other = await make_campus(db)
        r = await client.put(
            f"{API}/offerings/{other.offering.id}/lti-context",
            json={"platform_id": lti.platform_id, "context_id": "c"},
            headers=auth_headers(settings, other.instructor),
        )
        assert r.status_code == 404

    async def test_a_context_linked_to_another_offering_is_409(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, lti: LtiCampus
    ) -> None:
        await link_context(client, settings, lti, "course-101")
        second = CourseOffering(course_id=lti.campus.course.id, university_id=lti.university_id, term_name="Second")
        db.add(second)
        await db.flush()
        r = await client.put(
            f"{API}/offerings/{second.id}/lti-context",
            json={"platform_id": lti.platform_id, "context_id": "course-101"},
            headers=auth_headers(settings, lti.campus.instructor),
        )
        assert r.status_code == 409
        assert r.json()["error"]["code"] == "lti_context_linked"

    async def test_the_login_of_an_unknown_platform_is_a_400_page(self, client: httpx.AsyncClient) -> None:
        r = await client.get(
            local(
                "/lti/login?iss=https://nowhere.example&login_hint=x&target_link_uri=http://localhost:8000/lti/launch"
            )
        )
        assert r.status_code == 400
        assert r.headers["content-type"].startswith("text/html")


class TestLandingPage:
    async def test_with_a_web_client_the_launch_lands_on_its_page(
        self, client: httpx.AsyncClient, settings: Settings, lti: LtiCampus, monkeypatch: Any
    ) -> None:
        await link_context(client, settings, lti, "course-101")
        monkeypatch.setattr(settings, "web_base_url", "https://web.example")
        r = await launch(client, lti.platform, learner(custom={"content_item_id": "42"}))
        assert r.status_code == 303, r.text
        assert r.headers["location"].startswith("https://web.example/lti/launched?code=")
        assert f"offering_id={lti.campus.offering.id}" in r.headers["location"]

    async def test_the_launched_page_loads_its_script_from_self_and_keeps_no_token(
        self, client: httpx.AsyncClient, settings: Settings, lti: LtiCampus
    ) -> None:
        await link_context(client, settings, lti, "course-101")
        query = launched_query(await launch(client, lti.platform, learner()))
        assert query["offering_id"] == str(lti.campus.offering.id)
        page = await client.get("/lti/launched", params={"code": query["code"]})
        assert '<script src="/lti/launched.js" defer></script>' in page.text
        assert "<script>" not in page.text  # no inline script: script-src 'self' alone
        script = await client.get("/lti/launched.js")
        assert script.status_code == 200
        assert script.headers["content-type"].startswith("text/javascript")
        assert "localStorage.setItem" not in script.text
        assert "sessionStorage.setItem" not in script.text
