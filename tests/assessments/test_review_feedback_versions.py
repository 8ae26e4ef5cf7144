"""Review of issue 19 (attacker's view): an old attempt's feedback after its quiz was rewritten. Explanations are
looked up by question id in the quiz as it is now, so a student with one old attempt read the explanation of a
question rewritten since under the same id (a new key) without attempting it. Now an old attempt shows a question's
current explanation only while the question still grades as it did (everything but its explanation unchanged): an
explanation fixed later still shows, one of a rewritten question does not."""

from __future__ import annotations

import copy

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.assessments import ALL_WRONG, API, QUIZ, make_quiz_room
from tests.fixtures.factories import auth_headers
from twosigma.config import Settings


async def test_a_rewritten_questions_explanation_is_not_shown_on_an_attempt_at_the_old_one(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    qr = await make_quiz_room(db)
    student = auth_headers(settings, qr.room.enrolled)
    teacher = auth_headers(settings, qr.room.campus.instructor)
    submitted = await client.post(qr.attempts_url(), json={"answers": ALL_WRONG}, headers=student)
    assert submitted.status_code == 201, submitted.text

    data = copy.deepcopy(QUIZ)
    # q1 rewritten under the same id: a new question, a new key, an explanation that gives it away.
    data["questions"][0].update(
        prompt="Which is even?", choices=["3", "8", "5"], answer_index=1, explanation="NEW: 8 is the even one."
    )
    # q2: only its explanation is fixed.
    data["questions"][1]["explanation"] = "FIXED: 2 and 4 are even."
    edited = await client.patch(f"{API}/content-items/{qr.item.id}", json={"data_json": data}, headers=teacher)
    assert edited.status_code == 200, edited.text

    listed = await client.get(qr.attempts_url(), headers=student)
    assert listed.status_code == 200, listed.text
    feedback = {r["question_id"]: r["feedback"] for r in listed.json()["items"][0]["results"]}
    assert "NEW" not in listed.text, feedback
    assert feedback["q1"] is None
    assert feedback["q2"] == "FIXED: 2 and 4 are even."
