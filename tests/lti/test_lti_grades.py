"""Assignment and Grade Services: a launch binds the platform's line item to the launched quiz, every graded attempt
queues one score in the grading transaction, the queue posts it with a token from the platform's token endpoint
(RFC 7523 client assertion), retries when the LMS answers 500, and never posts an attempt's score twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.assessments import answers, make_quiz_item, quiz
from tests.fixtures.content import make_module, root_of
from tests.fixtures.courses import make_enrollment
from tests.fixtures.factories import auth_headers
from tests.fixtures.lti_platform import LEARNER, LaunchSpec, random_sub
from tests.fixtures.taxonomy import make_content_type
from tests.lti.conftest import API, LtiCampus, launch, launched_query, link_context
from twosigma.config import Settings
from twosigma.content.models import ContentItem
from twosigma.kit.state import state_of
from twosigma.lti.models import LtiLineItem, LtiScoreSend
from twosigma.lti.services.access_tokens import token_cache
from twosigma.lti.services.grades import send_batch


@pytest.fixture
async def quiz_item(db: AsyncSession, lti: LtiCampus) -> ContentItem:
    quiz_type = await make_content_type(db, gradable=True)
    lesson = await make_module(db, parent=await root_of(db, lti.campus.course))
    return await make_quiz_item(db, module=lesson, quiz_type=quiz_type, data=quiz(), title="A graded quiz")


async def _learner_with_token(
    client: httpx.AsyncClient, settings: Settings, lti: LtiCampus, item: ContentItem
) -> tuple[LaunchSpec, str]:
    await link_context(client, settings, lti, "course-101")
    spec = LaunchSpec(
        sub=random_sub(),
        roles=[LEARNER],
        custom={"content_item_id": str(item.id)},
        lineitem_url=f"{lti.platform.url}/lineitems/7/lineitem",
    )
    code = launched_query(await launch(client, lti.platform, spec))["code"]
    tokens = await client.post(f"{API}/auth/lti/exchange", json={"code": code})
    return spec, tokens.json()["access_token"]


async def _submit(client: httpx.AsyncClient, lti: LtiCampus, item: ContentItem, token: str, right: int) -> int:
    r = await client.post(
        f"{API}/offerings/{lti.campus.offering.id}/content-items/{item.id}/attempts",
        json={"answers": answers(right)},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def _drain(app: FastAPI, settings: Settings, at: datetime) -> int:
    database = state_of(app).db
    assert database is not None
    return await send_batch(database, settings, at)


@pytest.fixture(autouse=True)
def _fresh_tokens() -> None:
    token_cache().clear()


class TestScores:
    async def test_a_launch_binds_the_line_item_and_each_attempt_posts_one_score(
        self,
        client: httpx.AsyncClient,
        app: FastAPI,
        db: AsyncSession,
        settings: Settings,
        lti: LtiCampus,
        quiz_item: ContentItem,
    ) -> None:
        spec, token = await _learner_with_token(client, settings, lti, quiz_item)
        line_item = (await db.scalars(select(LtiLineItem))).one()
        assert line_item.content_item_id == quiz_item.id
        assert line_item.lineitem_url.endswith("/lineitems/7/lineitem")
        lti.platform.trust_tool_keys((await client.get("/lti/jwks.json")).json())

        first = await _submit(client, lti, quiz_item, token, right=1)
        second = await _submit(client, lti, quiz_item, token, right=2)
        rows = (await db.scalars(select(LtiScoreSend).order_by(LtiScoreSend.id))).all()
        assert [(r.quiz_attempt_id, r.status) for r in rows] == [(first, "PENDING"), (second, "PENDING")]

        assert await _drain(app, settings, datetime.now(UTC)) == 2
        assert [payload["scoreGiven"] for _, payload in lti.platform.scores] == [25.0, 50.0]
        posted = lti.platform.scores[0][1]
        assert posted["userId"] == spec.sub
        assert posted["scoreMaximum"] == 100
        assert posted["activityProgress"] == "Completed"
        assert posted["gradingProgress"] == "FullyGraded"
        assert "timestamp" in posted
        assert lti.platform.token_requests == 1  # the token is cached for the second score
        assert await _drain(app, settings, datetime.now(UTC) + timedelta(days=1)) == 0
        assert len(lti.platform.scores) == 2  # never twice

        sync = await client.get(
            f"{API}/offerings/{lti.campus.offering.id}/lti/grade-sync",
            headers=auth_headers(settings, lti.campus.instructor),
        )
        assert sync.status_code == 200, sync.text
        assert (sync.json()["pending"], sync.json()["sent"], sync.json()["failed"]) == (0, 2, 0)

    async def test_an_lms_answering_500_gets_the_score_again_after_the_backoff(
        self,
        client: httpx.AsyncClient,
        app: FastAPI,
        db: AsyncSession,
        settings: Settings,
        lti: LtiCampus,
        quiz_item: ContentItem,
    ) -> None:
        _, token = await _learner_with_token(client, settings, lti, quiz_item)
        lti.platform.trust_tool_keys((await client.get("/lti/jwks.json")).json())
        await _submit(client, lti, quiz_item, token, right=2)
        lti.platform.score_failures = 1
        now = datetime.now(UTC)
        assert await _drain(app, settings, now) == 1
        row = (await db.scalars(select(LtiScoreSend))).one()
        await db.refresh(row)
        assert row.status == "PENDING"
        assert "HTTP 500" in (row.last_error or "")
        assert lti.platform.scores == []
        assert await _drain(app, settings, now) == 0  # not yet due
        assert await _drain(app, settings, now + timedelta(minutes=5)) == 1
        await db.refresh(row)
        assert row.status == "SENT"
        assert [payload["scoreGiven"] for _, payload in lti.platform.scores] == [50.0]

    async def test_a_platform_refusing_the_assertion_fails_the_score_for_good(
        self,
        client: httpx.AsyncClient,
        app: FastAPI,
        db: AsyncSession,
        settings: Settings,
        lti: LtiCampus,
        quiz_item: ContentItem,
    ) -> None:
        _, token = await _learner_with_token(client, settings, lti, quiz_item)
        lti.platform.trust_tool_keys({"keys": []})  # the platform does not know the tool's key
        await _submit(client, lti, quiz_item, token, right=1)
        assert await _drain(app, settings, datetime.now(UTC)) == 1
        row = (await db.scalars(select(LtiScoreSend))).one()
        await db.refresh(row)
        assert row.status == "FAILED"
        assert "token endpoint answered HTTP 400" in (row.last_error or "")

    async def test_a_student_who_never_launched_from_the_lms_queues_nothing(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, lti: LtiCampus, quiz_item: ContentItem
    ) -> None:
        await _learner_with_token(client, settings, lti, quiz_item)
        await make_enrollment(db, user=lti.campus.student, offering=lti.campus.offering)
        await _submit(client, lti, quiz_item, auth_headers(settings, lti.campus.student)["Authorization"][7:], right=1)
        assert (await db.scalars(select(LtiScoreSend))).all() == []

    async def test_grade_sync_is_404_for_another_university(
        self, client: httpx.AsyncClient, settings: Settings, lti: LtiCampus
    ) -> None:
        r = await client.get(
            f"{API}/offerings/{lti.campus.offering.id}/lti/grade-sync",
            headers=auth_headers(settings, lti.campus.outsider_admin),
        )
        assert r.status_code == 404


class TestCourseCompletion:
    async def test_completing_the_course_posts_it_to_the_course_line_item(
        self,
        client: httpx.AsyncClient,
        app: FastAPI,
        db: AsyncSession,
        settings: Settings,
        lti: LtiCampus,
        quiz_item: ContentItem,
    ) -> None:
        spec, token = await _learner_with_token(client, settings, lti, quiz_item)
        # The same person launches the course-level link (no item): its line item becomes the course's.
        course_level = LaunchSpec(
            sub=spec.sub, roles=[LEARNER], lineitem_url=f"{lti.platform.url}/lineitems/1/lineitem"
        )
        launched_query(await launch(client, lti.platform, course_level))
        lti.platform.trust_tool_keys((await client.get("/lti/jwks.json")).json())

        await _submit(client, lti, quiz_item, token, right=4)  # the only item, passed: the course is complete
        rows = (await db.scalars(select(LtiScoreSend).order_by(LtiScoreSend.id))).all()
        assert [(r.quiz_attempt_id is not None, r.course_enrollment_id is not None) for r in rows] == [
            (True, False),
            (False, True),
        ]
        assert await _drain(app, settings, datetime.now(UTC)) == 2
        by_line_item = {line_item: payload for line_item, payload in lti.platform.scores}
        assert by_line_item["7"]["scoreGiven"] == 100.0
        assert by_line_item["1"]["scoreGiven"] == 100
        assert by_line_item["1"]["comment"] == "Course completed"
        assert by_line_item["1"]["userId"] == spec.sub
