"""Courses: catalog search, create (with its root module), read, update, delete and its cascades."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.courses import (
    Campus,
    make_campus,
    make_course,
    make_course_subject,
    make_enrollment,
)
from tests.fixtures.factories import auth_headers, make_department, make_member
from twosigma.config import Settings
from twosigma.content.models import ContentItem, Module
from twosigma.courses.models import Course, CourseOffering, CourseSubject
from twosigma.enrollments.models import CourseEnrollment
from twosigma.enums import CourseLevel, ModuleType, UserRole
from twosigma.progress.models import UserContentProgress, UserModuleProgress
from twosigma.taxonomy.models import ContentType

API = "/api/v1"


@pytest.fixture
async def campus(db: AsyncSession) -> Campus:
    return await make_campus(db)


def _ids(response: httpx.Response) -> list[int]:
    return [item["id"] for item in response.json()["items"]]


class TestCatalogSearch:
    async def test_student_sees_only_published_courses(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        hidden = await make_course(db, university=campus.university, is_published=False)
        r = await client.get(
            f"{API}/courses",
            params={"university_id": campus.university.id},
            headers=auth_headers(settings, campus.student),
        )
        assert r.status_code == 200
        assert campus.course.id in _ids(r)
        assert hidden.id not in _ids(r)

    async def test_staff_see_their_universitys_unpublished_courses_but_not_others(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        mine = await make_course(db, university=campus.university, is_published=False)
        theirs = await make_course(db, university=campus.other_university, is_published=False)
        r = await client.get(f"{API}/courses", params={"limit": 100}, headers=auth_headers(settings, campus.ta))
        assert mine.id in _ids(r)
        assert theirs.id not in _ids(r)

    async def test_q_matches_title_code_and_description(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        u = campus.university
        by_title = await make_course(db, university=u, title="Quantum Basketry")
        by_code = await make_course(db, university=u, code="QBX-101")
        by_text = await make_course(db, university=u, description="all about qbx weaving")
        headers = auth_headers(settings, campus.student)
        r = await client.get(f"{API}/courses", params={"q": "quantum", "university_id": u.id}, headers=headers)
        assert _ids(r) == [by_title.id]
        r = await client.get(f"{API}/courses", params={"q": "qbx", "university_id": u.id}, headers=headers)
        assert set(_ids(r)) == {by_code.id, by_text.id}

    async def test_like_wildcards_in_q_are_matched_literally(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        u = campus.university
        percent = await make_course(db, university=u, title="100% Fun")
        await make_course(db, university=u, title="1000 Fun")
        r = await client.get(
            f"{API}/courses", params={"q": "0%", "university_id": u.id}, headers=auth_headers(settings, campus.student)
        )
        assert _ids(r) == [percent.id]

    async def test_filters_by_department_level_and_subject_linked_or_primary(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        u = campus.university
        other_dept = await make_department(db, university=u)
        subject = await make_course_subject(db)
        primary = await make_course(
            db, university=u, department=other_dept, subject=subject, level=CourseLevel.ADVANCED
        )
        linked = await make_course(db, university=u, department=other_dept)
        db.add(CourseSubject(course_id=linked.id, subject_id=subject.id))
        await db.flush()
        headers = auth_headers(settings, campus.student)
        r = await client.get(f"{API}/courses", params={"subject_id": subject.id}, headers=headers)
        assert set(_ids(r)) == {primary.id, linked.id}
        r = await client.get(
            f"{API}/courses", params={"department_id": other_dept.id, "level": "ADVANCED"}, headers=headers
        )
        assert _ids(r) == [primary.id]

    async def test_sorts_by_code_descending(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        u = campus.university
        a = await make_course(db, university=u, code="AAA-1")
        z = await make_course(db, university=u, code="ZZZ-1")
        r = await client.get(
            f"{API}/courses",
            params={"university_id": u.id, "sort": "-code"},
            headers=auth_headers(settings, campus.student),
        )
        ids = _ids(r)
        assert ids.index(z.id) < ids.index(a.id)
        assert r.json()["total"] == 3

    async def test_unknown_sort_is_422(self, client: httpx.AsyncClient, settings: Settings, campus: Campus) -> None:
        r = await client.get(f"{API}/courses", params={"sort": "price"}, headers=auth_headers(settings, campus.student))
        assert r.status_code == 422
        assert r.json()["error"]["code"] == "validation_error"

    async def test_anonymous_caller_gets_401(self, client: httpx.AsyncClient) -> None:
        assert (await client.get(f"{API}/courses")).status_code == 401


def _course_body(campus: Campus, subject_id: int, **overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "university_id": campus.university.id,
        "department_id": campus.department.id,
        "primary_subject_id": subject_id,
        "title": "Intro to Things",
        "code": "THG-101",
    }
    body.update(overrides)
    return body


class TestCreateCourse:
    async def test_instructor_creates_a_course_with_its_published_root_module(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        r = await client.post(
            f"{API}/courses",
            json=_course_body(campus, campus.course.primary_subject_id),
            headers=auth_headers(settings, campus.instructor),
        )
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["code"] == "THG-101"
        assert body["is_published"] is False
        roots = (await db.scalars(select(Module).where(Module.course_id == body["id"]))).all()
        assert [
            (m.module_type, m.depth, m.sequence_index, m.parent_module_id, m.title, m.is_published) for m in roots
        ] == [(ModuleType.COURSE_ROOT, 0, 0, None, "Intro to Things", True)]

    async def test_student_gets_403(self, client: httpx.AsyncClient, settings: Settings, campus: Campus) -> None:
        r = await client.post(
            f"{API}/courses",
            json=_course_body(campus, campus.course.primary_subject_id),
            headers=auth_headers(settings, campus.student),
        )
        assert r.status_code == 403

    async def test_department_instructor_cannot_create_in_another_department(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        other = await make_department(db, university=campus.university)
        teacher = await make_member(db, campus.university, UserRole.INSTRUCTOR, department=campus.department)
        r = await client.post(
            f"{API}/courses",
            json=_course_body(campus, campus.course.primary_subject_id, department_id=other.id),
            headers=auth_headers(settings, teacher),
        )
        assert r.status_code == 403

    async def test_admin_of_another_university_gets_404(
        self, client: httpx.AsyncClient, settings: Settings, campus: Campus
    ) -> None:
        r = await client.post(
            f"{API}/courses",
            json=_course_body(campus, campus.course.primary_subject_id),
            headers=auth_headers(settings, campus.outsider_admin),
        )
        assert r.status_code == 404

    async def test_department_of_another_university_is_422(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        foreign = await make_department(db, university=campus.other_university)
        r = await client.post(
            f"{API}/courses",
            json=_course_body(campus, campus.course.primary_subject_id, department_id=foreign.id),
            headers=auth_headers(settings, campus.admin),
        )
        assert r.status_code == 422

    async def test_unknown_primary_subject_is_422(
        self, client: httpx.AsyncClient, settings: Settings, campus: Campus
    ) -> None:
        r = await client.post(
            f"{API}/courses", json=_course_body(campus, 987654), headers=auth_headers(settings, campus.admin)
        )
        assert r.status_code == 422

    async def test_missing_title_is_422(self, client: httpx.AsyncClient, settings: Settings, campus: Campus) -> None:
        body = _course_body(campus, campus.course.primary_subject_id)
        del body["title"]
        r = await client.post(f"{API}/courses", json=body, headers=auth_headers(settings, campus.admin))
        assert r.status_code == 422
        assert r.json()["error"]["code"] == "validation_error"

    async def test_duplicate_code_in_the_university_is_409(
        self, client: httpx.AsyncClient, settings: Settings, campus: Campus
    ) -> None:
        body = _course_body(campus, campus.course.primary_subject_id, code=campus.course.code)
        r = await client.post(f"{API}/courses", json=body, headers=auth_headers(settings, campus.admin))
        assert r.status_code == 409
        assert r.json()["error"]["code"] == "course_code_taken"

    async def test_anonymous_caller_gets_401(self, client: httpx.AsyncClient, campus: Campus) -> None:
        r = await client.post(f"{API}/courses", json=_course_body(campus, campus.course.primary_subject_id))
        assert r.status_code == 401


class TestGetCourse:
    async def test_published_course_is_visible_to_anyone_signed_in(
        self, client: httpx.AsyncClient, settings: Settings, campus: Campus
    ) -> None:
        r = await client.get(f"{API}/courses/{campus.course.id}", headers=auth_headers(settings, campus.outsider))
        assert r.status_code == 200
        assert r.json()["title"] == campus.course.title

    async def test_unpublished_course_is_404_for_a_student_of_the_same_university(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        draft = await make_course(db, university=campus.university, is_published=False)
        r = await client.get(f"{API}/courses/{draft.id}", headers=auth_headers(settings, campus.student))
        assert r.status_code == 404

    async def test_unpublished_course_is_visible_to_a_ta(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        draft = await make_course(db, university=campus.university, is_published=False)
        r = await client.get(f"{API}/courses/{draft.id}", headers=auth_headers(settings, campus.ta))
        assert r.status_code == 200

    async def test_non_numeric_id_is_422(self, client: httpx.AsyncClient, settings: Settings, campus: Campus) -> None:
        r = await client.get(f"{API}/courses/abc", headers=auth_headers(settings, campus.student))
        assert r.status_code == 422

    async def test_anonymous_caller_gets_401(self, client: httpx.AsyncClient, campus: Campus) -> None:
        assert (await client.get(f"{API}/courses/{campus.course.id}")).status_code == 401


class TestUpdateCourse:
    async def test_instructor_renames_and_publishes(
        self, client: httpx.AsyncClient, settings: Settings, campus: Campus
    ) -> None:
        r = await client.patch(
            f"{API}/courses/{campus.course.id}",
            json={"title": "Renamed", "is_published": False, "description": None},
            headers=auth_headers(settings, campus.instructor),
        )
        assert r.status_code == 200
        assert (r.json()["title"], r.json()["is_published"]) == ("Renamed", False)

    async def test_ta_gets_403(self, client: httpx.AsyncClient, settings: Settings, campus: Campus) -> None:
        r = await client.patch(
            f"{API}/courses/{campus.course.id}", json={"title": "x"}, headers=auth_headers(settings, campus.ta)
        )
        assert r.status_code == 403

    async def test_admin_of_another_university_gets_404(
        self, client: httpx.AsyncClient, settings: Settings, campus: Campus
    ) -> None:
        r = await client.patch(
            f"{API}/courses/{campus.course.id}",
            json={"title": "x"},
            headers=auth_headers(settings, campus.outsider_admin),
        )
        assert r.status_code == 404

    async def test_null_title_is_422(self, client: httpx.AsyncClient, settings: Settings, campus: Campus) -> None:
        r = await client.patch(
            f"{API}/courses/{campus.course.id}", json={"title": None}, headers=auth_headers(settings, campus.admin)
        )
        assert r.status_code == 422

    async def test_taking_another_courses_code_is_409(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        other = await make_course(db, university=campus.university)
        r = await client.patch(
            f"{API}/courses/{campus.course.id}", json={"code": other.code}, headers=auth_headers(settings, campus.admin)
        )
        assert r.status_code == 409

    async def test_anonymous_caller_gets_401(self, client: httpx.AsyncClient, campus: Campus) -> None:
        assert (await client.patch(f"{API}/courses/{campus.course.id}", json={"title": "x"})).status_code == 401


class TestDeleteCourse:
    async def test_delete_cascades_to_offerings_enrolments_modules_content_and_progress(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, campus: Campus
    ) -> None:
        course = campus.course
        enrollment = await make_enrollment(db, user=campus.student, offering=campus.offering)
        root = (await db.scalars(select(Module).where(Module.course_id == course.id))).one()
        content_type = ContentType(name=f"video-{course.id}", label="Video")
        db.add(content_type)
        await db.flush()
        item = ContentItem(module_id=root.id, course_id=course.id, content_type_id=content_type.id, title="Item")
        db.add(item)
        await db.flush()
        db.add_all(
            [
                UserContentProgress(
                    user_id=campus.student.id, course_offering_id=campus.offering.id, content_item_id=item.id
                ),
                UserModuleProgress(user_id=campus.student.id, course_offering_id=campus.offering.id, module_id=root.id),
            ]
        )
        await db.flush()

        r = await client.delete(f"{API}/courses/{course.id}", headers=auth_headers(settings, campus.admin))
        assert r.status_code == 204

        async def count(model: type, *where: object) -> int:
            return int(await db.scalar(select(func.count()).select_from(model).where(*where)) or 0)  # type: ignore[arg-type]

        assert await count(Course, Course.id == course.id) == 0
        assert await count(CourseOffering, CourseOffering.course_id == course.id) == 0
        assert await count(CourseEnrollment, CourseEnrollment.id == enrollment.id) == 0
        assert await count(Module, Module.course_id == course.id) == 0
        assert await count(ContentItem, ContentItem.course_id == course.id) == 0
        assert await count(UserContentProgress, UserContentProgress.user_id == campus.student.id) == 0
        assert await count(UserModuleProgress, UserModuleProgress.user_id == campus.student.id) == 0

    async def test_ta_gets_403(self, client: httpx.AsyncClient, settings: Settings, campus: Campus) -> None:
        r = await client.delete(f"{API}/courses/{campus.course.id}", headers=auth_headers(settings, campus.ta))
        assert r.status_code == 403

    async def test_admin_of_another_university_gets_404(
        self, client: httpx.AsyncClient, settings: Settings, campus: Campus
    ) -> None:
        r = await client.delete(
            f"{API}/courses/{campus.course.id}", headers=auth_headers(settings, campus.outsider_admin)
        )
        assert r.status_code == 404

    async def test_unknown_course_is_404(self, client: httpx.AsyncClient, settings: Settings, campus: Campus) -> None:
        r = await client.delete(f"{API}/courses/99999999", headers=auth_headers(settings, campus.admin))
        assert r.status_code == 404

    async def test_anonymous_caller_gets_401(self, client: httpx.AsyncClient, campus: Campus) -> None:
        assert (await client.delete(f"{API}/courses/{campus.course.id}")).status_code == 401
