"""Review of issue 19 (attacker's view): an item moved off a gradable type. Moving a quiz to a plain type kept its
data, so every student then read its answer keys (the item GET, the module list, new chat snapshots and the tutor's
prompt), its attempts stopped counting (out of the gradebook, results hidden) and its progress became the client's
to set again — the reasons a type's own `gradable` flag cannot be turned off while items use it. Now refused (409
`gradable_item_in_use`) while the item has attempts or the data it would keep still holds a key; an item without
attempts can move with new data that holds none."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.assessments import ALL_WRONG, API, make_quiz_room
from tests.fixtures.factories import auth_headers
from tests.fixtures.quiz_content import key_names
from twosigma.config import Settings


async def test_moving_a_quiz_off_its_gradable_type_leaks_no_key_and_keeps_its_grades(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    qr = await make_quiz_room(db)
    teacher = auth_headers(settings, qr.room.campus.instructor)
    student = auth_headers(settings, qr.room.enrolled)
    url = f"{API}/content-items/{qr.item.id}"
    plain = qr.room.content_type.id

    # Before any attempt: keeping the quiz's data (its keys) under a plain type is refused ...
    refused = await client.patch(url, json={"content_type_id": plain}, headers=teacher)
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "gradable_item_in_use"
    read = await client.get(url, headers=student)
    assert read.status_code == 200, read.text
    assert not key_names(read.json()), read.text

    # ... and once a student has attempted it, any move off the type is refused: the grades would stop counting.
    submitted = await client.post(qr.attempts_url(), json={"answers": ALL_WRONG}, headers=student)
    assert submitted.status_code == 201, submitted.text
    moved = await client.patch(url, json={"content_type_id": plain, "data_json": {"body": "notes"}}, headers=teacher)
    assert moved.status_code == 409, moved.text
    assert moved.json()["error"]["details"]["attempts"] == 1
    progress = await client.put(qr.progress_url(), json={"progress_percent": 100}, headers=student)
    assert progress.status_code == 409  # still graded_item: progress follows the grade


async def test_a_quiz_without_attempts_moves_off_with_new_data_that_holds_no_key(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    qr = await make_quiz_room(db)
    teacher = auth_headers(settings, qr.room.campus.instructor)
    url = f"{API}/content-items/{qr.item.id}"
    body = {"content_type_id": qr.room.content_type.id, "data_json": {"body": "notes"}}
    moved = await client.patch(url, json=body, headers=teacher)
    assert moved.status_code == 200, moved.text
    assert moved.json()["data_json"] == {"body": "notes"}
