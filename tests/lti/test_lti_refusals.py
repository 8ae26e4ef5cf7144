"""Every launch the tool must refuse: a clear 4xx page, a logged reason, and nothing created."""

from __future__ import annotations

import logging

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.factories import auth_headers
from tests.fixtures.lti_platform import LEARNER, LaunchSpec, random_sub
from tests.lti.conftest import LtiCampus, authenticate, launch, launched_query, link_context, local
from twosigma.config import Settings
from twosigma.enrollments.models import CourseEnrollment
from twosigma.lti.models import LtiIdentity, LtiLaunchCode
from twosigma.lti.services.verification import DEPLOYMENT_ID, MESSAGE_TYPE, ROLES, VERSION
from twosigma.users.models import User


async def _counts(db: AsyncSession) -> tuple[int | None, ...]:
    return tuple(
        [
            await db.scalar(select(func.count()).select_from(model))
            for model in (User, LtiIdentity, CourseEnrollment, LtiLaunchCode)
        ]
    )


@pytest.fixture
async def linked(client: httpx.AsyncClient, settings: Settings, lti: LtiCampus) -> LtiCampus:
    await link_context(client, settings, lti, "course-101")
    return lti


async def _refused(
    client: httpx.AsyncClient, db: AsyncSession, lti: LtiCampus, caplog: pytest.LogCaptureFixture, reason: str
) -> httpx.Response:
    before = await _counts(db)
    with caplog.at_level(logging.WARNING, logger="twosigma.lti"):
        r = await launch(client, lti.platform, LaunchSpec(sub=random_sub(), roles=[LEARNER]))
    assert 400 <= r.status_code < 500, r.text
    assert r.headers["content-type"].startswith("text/html")
    assert "This launch did not work" in r.text
    assert await _counts(db) == before
    assert any(reason in record.getMessage() for record in caplog.records), [r.getMessage() for r in caplog.records]
    return r


class TestRefusals:
    async def test_a_wrong_signature(
        self, client: httpx.AsyncClient, db: AsyncSession, linked: LtiCampus, caplog: pytest.LogCaptureFixture
    ) -> None:
        linked.platform.forge_signature()
        await _refused(client, db, linked, caplog, "signature does not verify")

    async def test_an_expired_token(
        self, client: httpx.AsyncClient, db: AsyncSession, linked: LtiCampus, caplog: pytest.LogCaptureFixture
    ) -> None:
        linked.platform.expired = True
        await _refused(client, db, linked, caplog, "expired")

    async def test_a_wrong_audience(
        self, client: httpx.AsyncClient, db: AsyncSession, linked: LtiCampus, caplog: pytest.LogCaptureFixture
    ) -> None:
        linked.platform.claim_overrides = {"aud": "another-tool", "azp": "another-tool"}
        await _refused(client, db, linked, caplog, "aud")

    async def test_another_authorized_party(
        self, client: httpx.AsyncClient, db: AsyncSession, linked: LtiCampus, caplog: pytest.LogCaptureFixture
    ) -> None:
        linked.platform.claim_overrides = {"aud": ["twosigma-lti-client", "another-tool"], "azp": "another-tool"}
        await _refused(client, db, linked, caplog, "azp")

    async def test_an_unknown_deployment(
        self, client: httpx.AsyncClient, db: AsyncSession, linked: LtiCampus, caplog: pytest.LogCaptureFixture
    ) -> None:
        linked.platform.claim_overrides = {DEPLOYMENT_ID: "deployment-unknown"}
        await _refused(client, db, linked, caplog, "deployment id 'deployment-unknown'")

    @pytest.mark.parametrize(
        ("claim", "reason"),
        [(VERSION, "version"), (ROLES, "roles"), (MESSAGE_TYPE, "message type"), ("sub", "sub")],
    )
    async def test_a_missing_required_claim(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        linked: LtiCampus,
        caplog: pytest.LogCaptureFixture,
        claim: str,
        reason: str,
    ) -> None:
        linked.platform.claims_removed = [claim]
        await _refused(client, db, linked, caplog, reason)

    async def test_an_unsupported_message_type(
        self, client: httpx.AsyncClient, db: AsyncSession, linked: LtiCampus, caplog: pytest.LogCaptureFixture
    ) -> None:
        linked.platform.claim_overrides = {MESSAGE_TYPE: "LtiSubmissionReviewRequest"}
        await _refused(client, db, linked, caplog, "message type")

    async def test_a_disabled_platform(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        linked: LtiCampus,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        spec = LaunchSpec(sub=random_sub(), roles=[LEARNER])
        action, fields = await authenticate(client, linked.platform, spec)
        r = await client.patch(
            f"/api/v1/universities/{linked.university_id}/lti/platforms/{linked.platform_id}",
            json={"enabled": False},
            headers=auth_headers(settings, linked.campus.admin),
        )
        assert r.status_code == 200
        before = await _counts(db)
        with caplog.at_level(logging.WARNING, logger="twosigma.lti"):
            refused = await client.post(local(action), data=fields)
        assert refused.status_code == 400
        assert await _counts(db) == before
        login = await client.get(local(linked.platform.login_initiation_url(spec)))
        assert login.status_code == 400

    async def test_a_replayed_launch_is_refused_the_second_time(
        self, client: httpx.AsyncClient, db: AsyncSession, linked: LtiCampus, caplog: pytest.LogCaptureFixture
    ) -> None:
        action, fields = await authenticate(client, linked.platform, LaunchSpec(sub=random_sub(), roles=[LEARNER]))
        launched_query(await client.post(local(action), data=fields))
        before = await _counts(db)
        with caplog.at_level(logging.WARNING, logger="twosigma.lti"):
            again = await client.post(local(action), data=fields)
        assert again.status_code == 400
        assert await _counts(db) == before
        assert any("state is unknown" in record.getMessage() for record in caplog.records)

    async def test_an_id_token_replayed_under_a_fresh_state_fails_on_its_nonce(
        self, client: httpx.AsyncClient, db: AsyncSession, linked: LtiCampus, caplog: pytest.LogCaptureFixture
    ) -> None:
        spec = LaunchSpec(sub=random_sub(), roles=[LEARNER])
        _, first = await authenticate(client, linked.platform, spec)
        action, second = await authenticate(client, linked.platform, spec)
        before = await _counts(db)
        with caplog.at_level(logging.WARNING, logger="twosigma.lti"):
            r = await client.post(local(action), data={"id_token": first["id_token"], "state": second["state"]})
        assert r.status_code == 400
        assert await _counts(db) == before
        assert any("nonce" in record.getMessage() for record in caplog.records)


class TestPlatformKeyRotation:
    async def test_a_launch_signed_with_a_rotated_key_refetches_the_jwks_and_succeeds(
        self, client: httpx.AsyncClient, linked: LtiCampus
    ) -> None:
        launched_query(await launch(client, linked.platform, LaunchSpec(sub=random_sub(), roles=[LEARNER])))
        fetched = linked.platform.jwks_requests
        launched_query(await launch(client, linked.platform, LaunchSpec(sub=random_sub(), roles=[LEARNER])))
        assert linked.platform.jwks_requests == fetched  # cached
        linked.platform.rotate_key()
        launched_query(await launch(client, linked.platform, LaunchSpec(sub=random_sub(), roles=[LEARNER])))
        assert linked.platform.jwks_requests == fetched + 1
