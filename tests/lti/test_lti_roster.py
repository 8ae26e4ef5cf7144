"""Names and Role Provisioning: the roster pulled page by page from the platform's membership service (a token
from its token endpoint), learners enrolled, leavers dropped, staff granted; and the scheduled sync."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.factories import auth_headers
from tests.fixtures.lti_platform import INSTRUCTOR, LEARNER, TEACHING_ASSISTANT, LaunchSpec, random_sub
from tests.lti.conftest import API, LtiCampus, launch, launched_query, link_context
from twosigma.config import Settings
from twosigma.enrollments.models import CourseEnrollment
from twosigma.enums import EnrollmentStatus
from twosigma.kit.state import state_of
from twosigma.lti.models import LtiContext, LtiIdentity
from twosigma.lti.services.access_tokens import token_cache
from twosigma.lti.services.roster import sync_batch


@pytest.fixture(autouse=True)
def _fresh_tokens() -> None:
    token_cache().clear()


async def _statuses(db: AsyncSession, lti: LtiCampus) -> dict[str, EnrollmentStatus]:
    rows = await db.execute(
        select(LtiIdentity.subject, CourseEnrollment.status)
        .join(CourseEnrollment, CourseEnrollment.user_id == LtiIdentity.user_id)
        .where(CourseEnrollment.course_offering_id == lti.campus.offering.id)
    )
    return {row.subject: row.status for row in rows}


@pytest.fixture
async def with_memberships(client: httpx.AsyncClient, settings: Settings, lti: LtiCampus) -> str:
    """The course is linked, a learner launched once (so the NRPS URL is known), and the platform knows the tool's
    keys. The launching learner's sub."""
    await link_context(client, settings, lti, "course-101")
    sub = random_sub()
    url = f"{lti.platform.url}/memberships/course-101"
    launched_query(await launch(client, lti.platform, LaunchSpec(sub=sub, roles=[LEARNER], memberships_url=url)))
    lti.platform.trust_tool_keys((await client.get("/lti/jwks.json")).json())
    return sub


async def _sync(client: httpx.AsyncClient, settings: Settings, lti: LtiCampus) -> httpx.Response:
    return await client.post(
        f"{API}/offerings/{lti.campus.offering.id}/lti/sync-roster",
        headers=auth_headers(settings, lti.campus.instructor),
    )


class TestRosterSync:
    async def test_paged_members_are_enrolled_staff_granted_and_leavers_dropped(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        lti: LtiCampus,
        with_memberships: str,
    ) -> None:
        platform = lti.platform
        learners = [random_sub() for _ in range(3)]
        platform.members["course-101"] = [
            platform.member(with_memberships, [LEARNER]),
            *(platform.member(s, [LEARNER], name=f"Learner {s}") for s in learners),
            platform.member("teacher-1", [INSTRUCTOR], email="teacher@lms.example.edu"),
            platform.member("ta-1", [TEACHING_ASSISTANT]),
        ]
        r = await _sync(client, settings, lti)
        assert r.status_code == 200, r.text
        assert r.json() == {"contexts": 1, "members": 6, "enrolled": 3, "dropped": 0, "staff": 2}
        assert platform.membership_requests == 3  # 6 members, 2 a page
        statuses = await _statuses(db, lti)
        assert statuses == {s: EnrollmentStatus.ACTIVE for s in [with_memberships, *learners]}

        # One learner leaves, one is marked inactive: both are dropped; the rest is unchanged.
        platform.members["course-101"] = [
            platform.member(with_memberships, [LEARNER]),
            platform.member(learners[0], [LEARNER]),
            platform.member(learners[1], [LEARNER], status="Inactive"),
        ]
        r = await _sync(client, settings, lti)
        assert r.json() == {"contexts": 1, "members": 2, "enrolled": 0, "dropped": 2, "staff": 0}
        statuses = await _statuses(db, lti)
        assert statuses[learners[1]] is EnrollmentStatus.DROPPED
        assert statuses[learners[2]] is EnrollmentStatus.DROPPED
        assert statuses[learners[0]] is EnrollmentStatus.ACTIVE

    async def test_an_offering_with_no_membership_service_is_409(
        self, client: httpx.AsyncClient, settings: Settings, lti: LtiCampus
    ) -> None:
        await link_context(client, settings, lti, "course-101")
        r = await _sync(client, settings, lti)
        assert r.status_code == 409
        assert r.json()["error"]["code"] == "lti_roster_unavailable"

    async def test_another_universitys_admin_gets_404(
        self, client: httpx.AsyncClient, settings: Settings, lti: LtiCampus
    ) -> None:
        url = f"{API}/offerings/{lti.campus.offering.id}/lti/sync-roster"
        assert (await client.post(url, headers=auth_headers(settings, lti.campus.outsider_admin))).status_code == 404

    async def test_the_scheduled_sync_takes_each_linked_course_once_per_period(
        self,
        client: httpx.AsyncClient,
        app: FastAPI,
        db: AsyncSession,
        settings: Settings,
        lti: LtiCampus,
        with_memberships: str,
    ) -> None:
        newcomer = random_sub()
        lti.platform.members["course-101"] = [lti.platform.member(newcomer, [LEARNER])]
        database = state_of(app).db
        assert database is not None
        now = datetime.now(UTC)
        assert await sync_batch(database, settings, now) == 1
        assert await sync_batch(database, settings, now + timedelta(hours=1)) == 0  # not due again yet
        statuses = await _statuses(db, lti)
        assert statuses[newcomer] is EnrollmentStatus.ACTIVE
        assert statuses[with_memberships] is EnrollmentStatus.DROPPED
        context = (await db.scalars(select(LtiContext))).one()
        await db.refresh(context)
        assert context.roster_synced_at == now
        assert await sync_batch(database, settings, now + timedelta(hours=25)) == 1
