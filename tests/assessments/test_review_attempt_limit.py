"""Review of issue 19 (attacker's view): the attempt limit survives leaving and rejoining the offering. Attempts
belong to (student, offering, item), not to an enrolment row: dropping and re-activating, or being removed by staff
and enrolling again, does not give a student a fresh set."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.assessments import ALL_WRONG, API, make_quiz_room, quiz
from tests.fixtures.factories import auth_headers
from twosigma.config import Settings
from twosigma.enrollments.models import CourseEnrollment


async def test_dropping_and_rejoining_does_not_reset_the_attempts(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    qr = await make_quiz_room(db, quiz(max_attempts=1))
    student = auth_headers(settings, qr.room.enrolled)
    first = await client.post(qr.attempts_url(), json={"answers": ALL_WRONG}, headers=student)
    assert first.status_code == 201, first.text
    stmt = select(CourseEnrollment.id).where(CourseEnrollment.user_id == qr.room.enrolled.id)
    enrollment_id = (await db.execute(stmt)).scalar_one()

    url = f"{API}/enrollments/{enrollment_id}"
    for status in ("DROPPED", "ACTIVE"):
        changed = await client.patch(url, json={"status": status}, headers=student)
        assert changed.status_code == 200, changed.text
    again = await client.post(qr.attempts_url(), json={"answers": ALL_WRONG}, headers=student)
    assert again.status_code == 409, again.text
    assert again.json()["error"]["code"] == "attempts_exhausted"

    removed = await client.delete(url, headers=auth_headers(settings, qr.room.campus.instructor))
    assert removed.status_code == 204, removed.text
    rejoined = await client.post(f"{API}/offerings/{qr.offering_id}/enroll", json={}, headers=student)
    assert rejoined.status_code == 201, rejoined.text
    third = await client.post(qr.attempts_url(), json={"answers": ALL_WRONG}, headers=student)
    assert third.status_code == 409, third.text
