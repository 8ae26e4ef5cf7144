"""Deep Linking 2.0: an instructor's LtiDeepLinkingRequest opens the picker; the tool answers a signed
LtiDeepLinkingResponse that the platform (lti1p3platform) validates, with a line item for each quiz."""

from __future__ import annotations

import html
import re

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.assessments import make_quiz_item, quiz
from tests.fixtures.content import make_content_item, make_module, root_of
from tests.fixtures.courses import make_campus
from tests.fixtures.lti_platform import INSTRUCTOR, LEARNER, LaunchSpec, random_sub
from tests.fixtures.taxonomy import make_content_type
from tests.lti.conftest import LtiCampus, launch
from twosigma.content.models import ContentItem


@pytest.fixture
async def items(db: AsyncSession, lti: LtiCampus) -> tuple[ContentItem, ContentItem]:
    lesson = await make_module(db, parent=await root_of(db, lti.campus.course), title="Week 1")
    reading = await make_content_item(db, module=lesson, title="Reading one")
    graded = await make_quiz_item(
        db, module=lesson, quiz_type=await make_content_type(db, gradable=True), data=quiz(), title="Quiz one"
    )
    return reading, graded


def _token(page: str) -> str:
    found = re.search(r'name="token" value="([^"]+)"', page)
    assert found is not None, page
    return html.unescape(found.group(1))


class TestDeepLinking:
    async def test_the_instructor_picks_items_and_the_platform_accepts_the_signed_response(
        self, client: httpx.AsyncClient, lti: LtiCampus, items: tuple[ContentItem, ContentItem]
    ) -> None:
        reading, graded = items
        picker = await launch(client, lti.platform, LaunchSpec(sub=random_sub(), roles=[INSTRUCTOR], deep_linking=True))
        assert picker.status_code == 200, picker.text
        assert f"frame-ancestors {lti.platform.url}" in picker.headers["content-security-policy"]
        assert f'value="{reading.id}"' in picker.text
        assert "Quiz one (quiz, graded)" in picker.text

        answer = await client.post(
            "/lti/deep-link", data={"token": _token(picker.text), "item_id": [str(reading.id), str(graded.id)]}
        )
        assert answer.status_code == 200, answer.text
        assert f"form-action 'self' {lti.platform.url}" in answer.headers["content-security-policy"]
        action = html.unescape(re.search(r'action="([^"]+)"', answer.text).group(1))  # type: ignore[union-attr]
        jwt = html.unescape(re.search(r'name="JWT" value="([^"]+)"', answer.text).group(1))  # type: ignore[union-attr]
        assert action == f"{lti.platform.url}/deep_link_return"
        lti.platform.trust_tool_keys((await client.get("/lti/jwks.json")).json())
        async with httpx.AsyncClient() as browser:
            accepted = await browser.post(action, data={"JWT": jwt})
        assert accepted.status_code == 200, accepted.text
        [placed] = lti.platform.deep_link_responses
        assert [(i["type"], i["title"], i["custom"]) for i in placed] == [
            ("ltiResourceLink", "Reading one", {"content_item_id": str(reading.id)}),
            ("ltiResourceLink", "Quiz one", {"content_item_id": str(graded.id)}),
        ]
        assert "lineItem" not in placed[0]
        assert placed[1]["lineItem"] == {"scoreMaximum": 100, "label": "Quiz one", "resourceId": str(graded.id)}
        claims = lti.platform.last_deep_link_claims
        assert claims["aud"] == lti.platform.issuer
        assert claims["https://purl.imsglobal.org/spec/lti-dl/claim/data"] == {"n": 1}
        assert claims["https://purl.imsglobal.org/spec/lti/claim/deployment_id"] == "deployment-1"

    async def test_the_picker_works_once(
        self, client: httpx.AsyncClient, lti: LtiCampus, items: tuple[ContentItem, ContentItem]
    ) -> None:
        picker = await launch(client, lti.platform, LaunchSpec(sub=random_sub(), roles=[INSTRUCTOR], deep_linking=True))
        token = _token(picker.text)
        assert (
            await client.post("/lti/deep-link", data={"token": token, "item_id": [str(items[0].id)]})
        ).status_code == 200
        again = await client.post("/lti/deep-link", data={"token": token, "item_id": [str(items[0].id)]})
        assert again.status_code == 400

    async def test_an_item_of_another_university_cannot_be_placed(
        self, client: httpx.AsyncClient, db: AsyncSession, lti: LtiCampus, items: tuple[ContentItem, ContentItem]
    ) -> None:
        other = await make_campus(db)
        foreign = await make_content_item(db, module=await root_of(db, other.course), title="Theirs")
        picker = await launch(client, lti.platform, LaunchSpec(sub=random_sub(), roles=[INSTRUCTOR], deep_linking=True))
        assert "Theirs" not in picker.text
        r = await client.post("/lti/deep-link", data={"token": _token(picker.text), "item_id": [str(foreign.id)]})
        assert r.status_code == 400

    async def test_a_learner_cannot_deep_link(self, client: httpx.AsyncClient, lti: LtiCampus) -> None:
        r = await launch(client, lti.platform, LaunchSpec(sub=random_sub(), roles=[LEARNER], deep_linking=True))
        assert r.status_code == 403
        assert "lti_deep_linking_forbidden" in r.text
