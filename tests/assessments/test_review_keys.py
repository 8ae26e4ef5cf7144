"""Review of issue 19 (attacker's view): answer keys stored anywhere in a gradable item's data, not only under
`questions`, never reach a student — an item stored before validation existed in another shape (its questions in
sections), and a valid quiz whose extra top-level keys hold a key field."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.assessments import API, make_quiz_room, quiz
from tests.fixtures.content import make_content_item
from tests.fixtures.factories import auth_headers
from tests.fixtures.quiz_content import key_names
from twosigma.config import Settings

SECTIONS: dict[str, Any] = {
    "sections": [
        {
            "title": "Part 1",
            "questions": [
                {"prompt": "2 + 2?", "choices": ["3", "4"], "answer_index": 1, "explanation": "2 + 2 = 4"},
                {"prompt": "Capital of France?", "accepted_answers": ["Paris"], "case_sensitive": False},
            ],
        }
    ]
}


@pytest.mark.parametrize(
    "data",
    [SECTIONS, quiz(review={"worked": [{"answer": 9.81, "tolerance": 0.05, "explanation": "g"}]})],
    ids=["legacy-sections", "valid-quiz-with-extra-keys"],
)
async def test_a_student_reads_no_key_wherever_the_data_holds_it(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, data: dict[str, Any]
) -> None:
    qr = await make_quiz_room(db)
    item = await make_content_item(db, module=qr.lesson, content_type=qr.quiz_type, data_json=data)
    headers = auth_headers(settings, qr.room.enrolled)
    read = await client.get(f"{API}/content-items/{item.id}", headers=headers)
    assert read.status_code == 200, read.text
    listed = await client.get(f"{API}/modules/{qr.lesson.id}/content-items", headers=headers)
    assert listed.status_code == 200, listed.text
    assert not key_names(read.json()["data_json"]), read.json()
    assert not key_names(listed.json()["items"]), listed.json()
    # The rest of the item is kept.
    assert "Part 1" in read.text or "worked" in read.text
