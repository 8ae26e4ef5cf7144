"""A course's subject links and prerequisites (same university, no self-reference, no cycles)."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.courses import Campus, make_campus, make_course, make_course_subject
from tests.fixtures.factories import auth_headers
from twosigma.config import Settings
from twosigma.courses.models import CoursePrerequisite

API = "/api/v1"


@pytest.fixture
async def campus(db: AsyncSession) -> Campus:
    return await make_campus(db)


class TestCourseSubjects:
    async def test_put_replaces_the_set_and_get_lists_it(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        a, b, c = [await make_course_subject(db) for _ in range(3)]
        url = f"{API}/courses/{campus.course.id}/subjects"
        headers = auth_headers(settings, campus.instructor)
        r = await client.put(url, json={"subject_ids": [a.id, b.id, a.id]}, headers=headers)
        assert r.status_code == 200
        assert {s["id"] for s in r.json()} == {a.id, b.id}
        r = await client.put(url, json={"subject_ids": [c.id]}, headers=headers)
        assert [s["id"] for s in r.json()] == [c.id]
        r = await client.get(url, headers=auth_headers(settings, campus.student))
        assert [s["id"] for s in r.json()] == [c.id]

    async def test_unknown_subject_is_422(self, client: httpx.AsyncClient, settings: Settings, campus: Campus) -> None:
        r = await client.put(
            f"{API}/courses/{campus.course.id}/subjects",
            json={"subject_ids": [987654]},
            headers=auth_headers(settings, campus.instructor),
        )
        assert r.status_code == 422
        assert r.json()["error"]["details"] == {"missing_subject_ids": [987654]}

    async def test_malformed_body_is_422(self, client: httpx.AsyncClient, settings: Settings, campus: Campus) -> None:
        r = await client.put(
            f"{API}/courses/{campus.course.id}/subjects",
            json={"subject_ids": "nope"},
            headers=auth_headers(settings, campus.instructor),
        )
        assert r.status_code == 422

    async def test_student_gets_403(self, client: httpx.AsyncClient, settings: Settings, campus: Campus) -> None:
        r = await client.put(
            f"{API}/courses/{campus.course.id}/subjects",
            json={"subject_ids": []},
            headers=auth_headers(settings, campus.student),
        )
        assert r.status_code == 403

    async def test_admin_of_another_university_gets_404(
        self, client: httpx.AsyncClient, settings: Settings, campus: Campus
    ) -> None:
        r = await client.put(
            f"{API}/courses/{campus.course.id}/subjects",
            json={"subject_ids": []},
            headers=auth_headers(settings, campus.outsider_admin),
        )
        assert r.status_code == 404

    async def test_anonymous_caller_gets_401(self, client: httpx.AsyncClient, campus: Campus) -> None:
        r = await client.get(f"{API}/courses/{campus.course.id}/subjects")
        assert r.status_code == 401


class TestPrerequisites:
    async def test_put_replaces_and_get_lists_them(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        a = await make_course(db, university=campus.university, code="PRE-A")
        b = await make_course(db, university=campus.university, code="PRE-B")
        url = f"{API}/courses/{campus.course.id}/prerequisites"
        r = await client.put(url, json={"course_ids": [b.id, a.id]}, headers=auth_headers(settings, campus.instructor))
        assert r.status_code == 200
        assert [c["code"] for c in r.json()] == ["PRE-A", "PRE-B"]
        r = await client.get(url, headers=auth_headers(settings, campus.student))
        assert [c["id"] for c in r.json()] == [a.id, b.id]

    async def test_course_of_another_university_is_422(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        foreign = await make_course(db, university=campus.other_university)
        r = await client.put(
            f"{API}/courses/{campus.course.id}/prerequisites",
            json={"course_ids": [foreign.id]},
            headers=auth_headers(settings, campus.admin),
        )
        assert r.status_code == 422
        assert r.json()["error"]["code"] == "invalid_prerequisites"

    async def test_a_course_cannot_require_itself(
        self, client: httpx.AsyncClient, settings: Settings, campus: Campus
    ) -> None:
        r = await client.put(
            f"{API}/courses/{campus.course.id}/prerequisites",
            json={"course_ids": [campus.course.id]},
            headers=auth_headers(settings, campus.admin),
        )
        assert r.status_code == 422
        assert r.json()["error"]["code"] == "self_prerequisite"

    async def test_closing_a_cycle_is_409(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        # course → a → b already; making b require course closes course → a → b → course.
        a = await make_course(db, university=campus.university)
        b = await make_course(db, university=campus.university)
        db.add_all(
            [
                CoursePrerequisite(course_id=campus.course.id, prerequisite_course_id=a.id),
                CoursePrerequisite(course_id=a.id, prerequisite_course_id=b.id),
            ]
        )
        await db.flush()
        r = await client.put(
            f"{API}/courses/{b.id}/prerequisites",
            json={"course_ids": [campus.course.id]},
            headers=auth_headers(settings, campus.admin),
        )
        assert r.status_code == 409
        assert r.json()["error"]["code"] == "prerequisite_cycle"

    async def test_a_diamond_is_not_a_cycle(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        a = await make_course(db, university=campus.university)
        b = await make_course(db, university=campus.university)
        base = await make_course(db, university=campus.university)
        db.add_all(
            [
                CoursePrerequisite(course_id=a.id, prerequisite_course_id=base.id),
                CoursePrerequisite(course_id=b.id, prerequisite_course_id=base.id),
            ]
        )
        await db.flush()
        r = await client.put(
            f"{API}/courses/{campus.course.id}/prerequisites",
            json={"course_ids": [a.id, b.id, base.id]},
            headers=auth_headers(settings, campus.admin),
        )
        assert r.status_code == 200

    async def test_ta_gets_403(self, client: httpx.AsyncClient, settings: Settings, campus: Campus) -> None:
        r = await client.put(
            f"{API}/courses/{campus.course.id}/prerequisites",
            json={"course_ids": []},
            headers=auth_headers(settings, campus.ta),
        )
        assert r.status_code == 403

    async def test_unpublished_course_prerequisites_are_404_for_another_tenant(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        draft = await make_course(db, university=campus.university, is_published=False)
        r = await client.get(f"{API}/courses/{draft.id}/prerequisites", headers=auth_headers(settings, campus.outsider))
        assert r.status_code == 404

    async def test_non_integer_ids_are_422(self, client: httpx.AsyncClient, settings: Settings, campus: Campus) -> None:
        r = await client.put(
            f"{API}/courses/{campus.course.id}/prerequisites",
            json={"course_ids": ["x"]},
            headers=auth_headers(settings, campus.admin),
        )
        assert r.status_code == 422

    async def test_anonymous_caller_gets_401(self, client: httpx.AsyncClient, campus: Campus) -> None:
        r = await client.put(f"{API}/courses/{campus.course.id}/prerequisites", json={"course_ids": []})
        assert r.status_code == 401
