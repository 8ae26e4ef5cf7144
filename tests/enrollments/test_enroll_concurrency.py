"""Concurrent self-enrolments through separate connections never exceed capacity.

This test commits for real (a real engine and pool, not the rolled-back test connection) and deletes every row it
made at the end.
"""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.fixtures.courses import make_course, make_course_subject, make_offering
from tests.fixtures.factories import auth_headers, make_country, make_university, make_user
from twosigma.app import create_app
from twosigma.config import Settings
from twosigma.db.engine import Database
from twosigma.enrollments.models import CourseEnrollment
from twosigma.enums import EnrollmentStatus
from twosigma.taxonomy.models import Domain, Subject
from twosigma.tenancy.models import Country, University
from twosigma.users.models import User

API = "/api/v1"


class TestConcurrentEnrolment:
    async def test_ten_students_racing_for_three_seats_get_three_active_and_seven_waitlisted(
        self, settings: Settings, database_url: str, db_engine: AsyncEngine
    ) -> None:
        database = Database.from_url(database_url, settings)
        ids: dict[str, object] = {}
        try:
            async with database.sessionmaker() as session:
                country = await make_country(session)
                university = await make_university(session, country=country)
                subject = await make_course_subject(session)
                course = await make_course(session, university=university, subject=subject)
                offering = await make_offering(session, course=course, capacity=3)
                users = [await make_user(session) for _ in range(10)]
                ids = {
                    "country": country.id,
                    "university": university.id,
                    "domain": subject.domain_id,
                    "offering": offering.id,
                    "users": [u.id for u in users],
                }
                await session.commit()

            app = create_app(settings=settings, database=database)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                responses = await asyncio.gather(
                    *(
                        client.post(f"{API}/offerings/{offering.id}/enroll", headers=auth_headers(settings, user))
                        for user in users
                    )
                )
            assert [r.status_code for r in responses] == [201] * 10, [r.text for r in responses]

            async with database.sessionmaker() as session:
                statuses = (
                    await session.scalars(
                        select(CourseEnrollment.status).where(CourseEnrollment.course_offering_id == offering.id)
                    )
                ).all()
            assert sorted(statuses) == sorted([EnrollmentStatus.ACTIVE] * 3 + [EnrollmentStatus.WAITLISTED] * 7)
        finally:
            async with database.sessionmaker() as session:
                if ids:
                    # The university cascades to courses, offerings, enrolments, modules and roles.
                    await session.execute(delete(University).where(University.id == ids["university"]))
                    await session.execute(delete(Subject).where(Subject.domain_id == ids["domain"]))
                    await session.execute(delete(Domain).where(Domain.id == ids["domain"]))
                    await session.execute(delete(Country).where(Country.id == ids["country"]))
                    await session.execute(delete(User).where(User.id.in_(ids["users"])))  # type: ignore[arg-type]
                    await session.commit()
            await database.dispose()
