"""Real concurrent progress writes on separate connections that commit; everything is deleted afterwards."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from tests.fixtures.content import make_content_item, make_course, make_enrollment, make_module, make_offering, root_of
from tests.fixtures.factories import auth_headers, make_member, make_university
from tests.fixtures.taxonomy import make_content_type
from twosigma.app import create_app
from twosigma.config import Settings
from twosigma.courses.models import Course
from twosigma.db.engine import Database, make_sessionmaker
from twosigma.enums import UserRole
from twosigma.progress.models import UserContentProgress, UserModuleProgress
from twosigma.taxonomy.models import ContentType, Domain, Subject
from twosigma.tenancy.models import Country, University
from twosigma.users.models import User


@dataclass
class Committed:
    client: httpx.AsyncClient
    headers: dict[str, str]
    offering_id: int
    item_ids: list[int]
    user_id: int
    root_id: int


@pytest.fixture
async def committed(settings: Settings, db_engine: AsyncEngine) -> AsyncIterator[Committed]:
    maker = make_sessionmaker(db_engine)
    async with maker() as db:
        university = await make_university(db)
        course = await make_course(db, university=university)
        offering = await make_offering(db, course=course)
        student = await make_member(db, university, UserRole.STUDENT)
        await make_enrollment(db, user=student, offering=offering)
        content_type = await make_content_type(db)
        root = await root_of(db, course)
        lesson = await make_module(db, parent=root)
        items = [await make_content_item(db, module=lesson, content_type=content_type) for _ in range(4)]
        ids = (university.id, university.country_id, course.primary_subject_id, content_type.id, student.id, course.id)
        headers = auth_headers(settings, student)
        state = (offering.id, [i.id for i in items], student.id, root.id)
        await db.commit()
    app = create_app(settings=settings, database=Database(engine=db_engine, sessionmaker=maker))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            yield Committed(client, headers, *state)
    finally:
        university_id, country_id, subject_id, content_type_id, user_id, course_id = ids
        async with db_engine.begin() as conn:
            domain_id = await conn.scalar(select(Subject.domain_id).where(Subject.id == subject_id))
            await conn.execute(delete(Course).where(Course.id == course_id))
            await conn.execute(delete(University).where(University.id == university_id))
            await conn.execute(delete(Country).where(Country.id == country_id))
            await conn.execute(delete(User).where(User.id == user_id))
            await conn.execute(delete(ContentType).where(ContentType.id == content_type_id))
            await conn.execute(delete(Domain).where(Domain.id == domain_id))


class TestConcurrentProgress:
    async def test_concurrent_attempts_on_one_item_are_all_counted(
        self, committed: Committed, db_engine: AsyncEngine
    ) -> None:
        url = f"/api/v1/offerings/{committed.offering_id}/progress/content-items/{committed.item_ids[0]}"
        responses = await asyncio.gather(
            *(
                committed.client.put(url, json={"progress_percent": p, "attempt": True}, headers=committed.headers)
                for p in range(10, 90, 5)
            )
        )
        assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
        async with AsyncSession(db_engine) as s:
            row = (
                await s.execute(
                    select(UserContentProgress.attempts_count, UserContentProgress.progress_percent).where(
                        UserContentProgress.user_id == committed.user_id
                    )
                )
            ).one()
        assert tuple(row) == (16, 85)

    async def test_concurrent_completion_of_the_last_items_rolls_up_to_100(
        self, committed: Committed, db_engine: AsyncEngine
    ) -> None:
        base = f"/api/v1/offerings/{committed.offering_id}/progress/content-items"
        responses = await asyncio.gather(
            *(
                committed.client.put(f"{base}/{i}", json={"progress_percent": 100}, headers=committed.headers)
                for i in committed.item_ids
            )
        )
        assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
        async with AsyncSession(db_engine) as s:
            root_percent = await s.scalar(
                select(UserModuleProgress.progress_percent).where(
                    UserModuleProgress.user_id == committed.user_id, UserModuleProgress.module_id == committed.root_id
                )
            )
        assert root_percent == 100
        assert sorted(r.json()["enrollment_status"] for r in responses)[0] == "ACTIVE"
        assert [r.json()["course_progress_percent"] for r in responses].count(100) == 1
