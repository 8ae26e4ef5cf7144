"""Races through the HTTP API on real, separate connections (an app on `Database.from_url`, a pool of its own),
with exact expected counts. Everything runs on a scratch database that is dropped at the end, so nothing is left
behind. The domain suites race the services in smaller numbers; this is the consolidated suite with figures.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import AsyncIterator, Awaitable, Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.assessments import answers, quiz
from tests.fixtures.content import make_content_item, make_module, root_of
from tests.fixtures.courses import make_course, make_enrollment, make_offering
from tests.fixtures.factories import DEFAULT_PASSWORD, auth_headers, make_member, make_university, make_user
from tests.fixtures.taxonomy import make_content_type
from tests.reliability.scratch import scratch_database
from twosigma.app import create_app
from twosigma.assessments.models import QuizAttempt
from twosigma.auth.models import RefreshToken
from twosigma.config import Settings
from twosigma.db.engine import Database
from twosigma.enrollments.models import CourseEnrollment
from twosigma.enums import EnrollmentStatus, UserRole
from twosigma.progress.models import UserContentProgress
from twosigma.prompts.models import Prompt, PromptLabelEvent

API = "/api/v1"
FIGURES: list[str] = []


@dataclass
class Live:
    client: httpx.AsyncClient
    database: Database
    settings: Settings

    def session(self) -> AsyncSession:
        return self.database.sessionmaker()


@pytest.fixture(scope="module")
async def live(server_url: str, settings: Settings) -> AsyncIterator[Live]:
    async with scratch_database(server_url, settings) as url:
        app_settings = settings.model_copy(update={"database_url": url})
        database = Database.from_url(url, app_settings)
        app = create_app(settings=app_settings, database=database)
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
                yield Live(client, database, app_settings)
        finally:
            await database.dispose()


@pytest.fixture(scope="module", autouse=True)
def _print_figures() -> Iterator[None]:
    yield
    print("\nconcurrency figures:\n" + "\n".join(f"  {line}" for line in FIGURES))  # noqa: T201 - the figures


async def race(label: str, calls: list[Awaitable[httpx.Response]]) -> list[httpx.Response]:
    started = time.perf_counter()
    responses = await asyncio.gather(*calls)
    statuses = dict(sorted(collections.Counter(r.status_code for r in responses).items()))
    FIGURES.append(f"{label}: {len(calls)} parallel requests in {time.perf_counter() - started:.2f}s, {statuses}")
    return list(responses)


class TestEnrolmentAgainstCapacity:
    async def test_forty_students_racing_for_seven_seats_get_seven_active_and_thirty_three_waitlisted(
        self, live: Live
    ) -> None:
        async with live.session() as db:
            course = await make_course(db, university=await make_university(db))
            offering = await make_offering(db, course=course, capacity=7)
            students = [await make_user(db) for _ in range(40)]
            await db.commit()
        url = f"{API}/offerings/{offering.id}/enroll"
        responses = await race(
            "enrol 40 for 7 seats", [live.client.post(url, headers=auth_headers(live.settings, s)) for s in students]
        )
        assert all(r.status_code == 201 for r in responses), [r.text for r in responses if r.status_code != 201]
        async with live.session() as db:
            rows = (
                await db.execute(
                    select(CourseEnrollment.status, func.count())
                    .where(CourseEnrollment.course_offering_id == offering.id)
                    .group_by(CourseEnrollment.status)
                )
            ).all()
        assert dict(rows) == {EnrollmentStatus.ACTIVE: 7, EnrollmentStatus.WAITLISTED: 33}


class TestPromptVersions:
    async def test_thirty_parallel_creates_of_one_name_get_versions_one_to_thirty_once_each(self, live: Live) -> None:
        async with live.session() as db:
            admin = await make_member(db, await make_university(db), UserRole.PLATFORM_ADMIN)
            await db.commit()
        headers = auth_headers(live.settings, admin)
        responses = await race(
            "create 30 versions of one prompt",
            [
                live.client.post(f"{API}/prompts", json={"name": "race/one", "prompt": f"v{n}"}, headers=headers)
                for n in range(30)
            ],
        )
        assert [r.status_code for r in responses] == [201] * 30, [r.text for r in responses]
        assert sorted(r.json()["version"] for r in responses) == list(range(1, 31))
        async with live.session() as db:
            stored = (await db.scalars(select(Prompt.version).where(Prompt.name == "race/one"))).all()
            latest = (
                await db.scalars(
                    select(Prompt.version).where(Prompt.name == "race/one", Prompt.labels.contains(["latest"]))
                )
            ).all()
        assert sorted(stored) == list(range(1, 31))
        assert latest == [30]


class TestLabelMoves:
    async def test_twenty_parallel_moves_leave_the_label_on_one_version_with_twenty_events(self, live: Live) -> None:
        async with live.session() as db:
            admin = await make_member(db, await make_university(db), UserRole.PLATFORM_ADMIN)
            await db.commit()
        headers = auth_headers(live.settings, admin)
        for n in range(20):
            created = await live.client.post(
                f"{API}/prompts", json={"name": "race/moves", "prompt": f"v{n}"}, headers=headers
            )
            assert created.status_code == 201
        responses = await race(
            "move 'production' 20 times",
            [
                live.client.patch(
                    f"{API}/prompts/race/moves/versions/{v}", json={"new_labels": ["production"]}, headers=headers
                )
                for v in range(1, 21)
            ],
        )
        assert [r.status_code for r in responses] == [200] * 20, [r.text for r in responses]
        async with live.session() as db:
            holders = (
                await db.scalars(
                    select(Prompt.version).where(Prompt.name == "race/moves", Prompt.labels.contains(["production"]))
                )
            ).all()
            events = (
                await db.execute(
                    select(PromptLabelEvent.from_version, PromptLabelEvent.to_version)
                    .where(PromptLabelEvent.prompt_name == "race/moves", PromptLabelEvent.label == "production")
                    .order_by(PromptLabelEvent.id)
                )
            ).all()
        assert len(holders) == 1
        assert len(events) == 20
        assert events[0][0] is None
        assert all(events[i][0] == events[i - 1][1] for i in range(1, len(events)))
        assert events[-1][1] == holders[0]


class TestProgressAttempts:
    async def test_twenty_five_parallel_attempts_on_one_item_count_twenty_five(self, live: Live) -> None:
        async with live.session() as db:
            university = await make_university(db)
            course = await make_course(db, university=university)
            offering = await make_offering(db, course=course)
            student = await make_member(db, university, UserRole.STUDENT)
            await make_enrollment(db, user=student, offering=offering)
            module = await make_module(db, parent=await root_of(db, course))
            content_type = await make_content_type(db)
            item = await make_content_item(db, module=module, content_type=content_type)
            # A second item keeps the course below 100 %, so no write completes the enrolment.
            await make_content_item(db, module=module, content_type=content_type)
            await db.commit()
        url = f"{API}/offerings/{offering.id}/progress/content-items/{item.id}"
        headers = auth_headers(live.settings, student)
        responses = await race(
            "25 attempts on one item",
            [
                live.client.put(url, json={"progress_percent": p, "attempt": True}, headers=headers)
                for p in range(40, 65)
            ],
        )
        assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
        async with live.session() as db:
            attempts, percent = (
                await db.execute(
                    select(UserContentProgress.attempts_count, UserContentProgress.progress_percent).where(
                        UserContentProgress.user_id == student.id, UserContentProgress.content_item_id == item.id
                    )
                )
            ).one()
        assert attempts == 25
        assert percent == 64  # progress never goes down: the highest write wins whatever the order


class TestQuizAttemptLimit:
    """The attempt limit under real concurrent submits (authz and grading included): the per-student lock makes
    the count and the insert one step, and the unique attempt number is its backstop."""

    async def _quiz(self, live: Live, max_attempts: int) -> tuple[str, int, list[dict[str, str]]]:
        async with live.session() as db:
            university = await make_university(db)
            course = await make_course(db, university=university)
            offering = await make_offering(db, course=course)
            students = [await make_member(db, university, UserRole.STUDENT) for _ in range(2)]
            for student in students:
                await make_enrollment(db, user=student, offering=offering)
            module = await make_module(db, parent=await root_of(db, course))
            item = await make_content_item(
                db,
                module=module,
                content_type=await make_content_type(db, gradable=True),
                data_json=quiz(max_attempts=max_attempts),
            )
            # A second item keeps the course below 100 %, so no attempt completes the enrolment.
            await make_content_item(db, module=module, content_type=await make_content_type(db))
            await db.commit()
        url = f"{API}/offerings/{offering.id}/content-items/{item.id}/attempts"
        return url, item.id, [auth_headers(live.settings, s) for s in students]

    async def test_two_parallel_submits_at_the_last_attempt_let_exactly_one_through(self, live: Live) -> None:
        url, item_id, (headers, _) = await self._quiz(live, max_attempts=3)
        for _ in range(2):
            assert (await live.client.post(url, json={"answers": answers(1)}, headers=headers)).status_code == 201
        responses = await race(
            "2 submits for the last attempt",
            [live.client.post(url, json={"answers": answers(n)}, headers=headers) for n in (0, 4)],
        )
        assert sorted(r.status_code for r in responses) == [201, 409], [r.text for r in responses]
        refused = next(r for r in responses if r.status_code == 409)
        assert refused.json()["error"]["code"] == "attempts_exhausted"
        assert next(r for r in responses if r.status_code == 201).json()["attempt_number"] == 3
        async with live.session() as db:
            numbers = (
                await db.scalars(select(QuizAttempt.attempt_number).where(QuizAttempt.content_item_id == item_id))
            ).all()
        assert sorted(numbers) == [1, 2, 3]

    async def test_twelve_parallel_submits_of_two_students_get_three_attempts_each(self, live: Live) -> None:
        url, item_id, both = await self._quiz(live, max_attempts=3)
        responses = await race(
            "12 submits, 2 students, 3 attempts each",
            [live.client.post(url, json={"answers": answers(1)}, headers=both[n % 2]) for n in range(12)],
        )
        assert sorted(r.status_code for r in responses) == [201] * 6 + [409] * 6, [r.text for r in responses]
        assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {"attempts_exhausted"}
        async with live.session() as db:
            rows = (
                await db.execute(
                    select(QuizAttempt.user_id, func.array_agg(QuizAttempt.attempt_number))
                    .where(QuizAttempt.content_item_id == item_id)
                    .group_by(QuizAttempt.user_id)
                )
            ).all()
            counted = (
                await db.scalars(
                    select(UserContentProgress.attempts_count).where(UserContentProgress.content_item_id == item_id)
                )
            ).all()
        assert [sorted(numbers) for _, numbers in rows] == [[1, 2, 3], [1, 2, 3]]
        assert counted == [3, 3]


class TestRefreshRace:
    async def test_ten_parallel_refreshes_of_one_token_let_exactly_one_win_and_revoke_the_family(
        self, live: Live
    ) -> None:
        async with live.session() as db:
            user = await make_user(db)
            await db.commit()
        login = await live.client.post(f"{API}/auth/login", json={"email": user.email, "password": DEFAULT_PASSWORD})
        assert login.status_code == 200, login.text
        token = login.json()["refresh_token"]
        bearer = {"Authorization": f"Bearer {token}"}
        responses = await race(
            "refresh one token 10 times", [live.client.post(f"{API}/auth/refresh", headers=bearer) for _ in range(10)]
        )
        assert sorted(r.status_code for r in responses) == [200] + [401] * 9
        assert {r.json()["error"]["code"] for r in responses if r.status_code == 401} == {"refresh_token_reused"}
        async with live.session() as db:
            tokens = (await db.execute(select(RefreshToken.revoked_at).where(RefreshToken.user_id == user.id))).all()
        # The login's token and the winner's successor; the reuse revoked the whole family.
        assert len(tokens) == 2
        assert all(revoked_at is not None for (revoked_at,) in tokens)
        winner = next(r for r in responses if r.status_code == 200).json()["refresh_token"]
        again = await live.client.post(f"{API}/auth/refresh", headers={"Authorization": f"Bearer {winner}"})
        assert again.status_code == 401
