"""POST /courses/{id}/modules, GET/PATCH/DELETE /modules/{id}."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.content import (
    make_classroom,
    make_content_item,
    make_course,
    make_module,
    root_of,
)
from tests.fixtures.factories import auth_headers, make_member
from twosigma.config import Settings
from twosigma.content.models import ContentItem, Module
from twosigma.enums import ModuleType, UserRole


async def sibling_order(db: AsyncSession, parent_id: int) -> list[tuple[int, int]]:
    rows = await db.execute(
        select(Module.id, Module.sequence_index)
        .where(Module.parent_module_id == parent_id)
        .order_by(Module.sequence_index, Module.id)
        .execution_options(populate_existing=True)
    )
    return [(r[0], r[1]) for r in rows]


class TestCreateModule:
    async def test_instructor_appends_a_module_under_the_root_by_default(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        root = await root_of(db, room.course)
        existing = await make_module(db, parent=root)
        r = await client.post(
            f"/api/v1/courses/{room.course.id}/modules",
            json={"title": "Week 2", "module_type": "UNIT"},
            headers=auth_headers(settings, room.campus.instructor),
        )
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["parent_module_id"] == root.id
        assert body["depth"] == 1
        assert body["sequence_index"] == 1
        assert body["is_published"] is False
        assert await sibling_order(db, root.id) == [(existing.id, 0), (body["id"], 1)]

    async def test_inserting_at_an_index_shifts_later_siblings(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        root = await root_of(db, room.course)
        a, b, c = [await make_module(db, parent=root) for _ in range(3)]
        r = await client.post(
            f"/api/v1/courses/{room.course.id}/modules",
            json={"title": "Inserted", "module_type": "LESSON", "sequence_index": 1, "parent_module_id": root.id},
            headers=auth_headers(settings, room.campus.admin),
        )
        assert r.status_code == 201, r.text
        new_id = r.json()["id"]
        assert await sibling_order(db, root.id) == [(a.id, 0), (new_id, 1), (b.id, 2), (c.id, 3)]

    async def test_a_child_module_gets_its_parents_depth_plus_one(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        unit = await make_module(db, parent=await root_of(db, room.course))
        r = await client.post(
            f"/api/v1/courses/{room.course.id}/modules",
            json={"title": "Lesson", "module_type": "LESSON", "parent_module_id": unit.id},
            headers=auth_headers(settings, room.campus.instructor),
        )
        assert r.status_code == 201, r.text
        assert (r.json()["depth"], r.json()["sequence_index"]) == (2, 0)

    async def test_an_index_past_the_end_is_refused(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        r = await client.post(
            f"/api/v1/courses/{room.course.id}/modules",
            json={"title": "Far", "module_type": "UNIT", "sequence_index": 5},
            headers=auth_headers(settings, room.campus.instructor),
        )
        assert r.status_code == 422
        assert r.json()["error"]["code"] == "sequence_index_out_of_range"
        assert r.json()["error"]["details"]["max"] == 0

    async def test_a_parent_from_another_course_is_refused(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        other = await make_course(db, university=room.campus.university)
        r = await client.post(
            f"/api/v1/courses/{room.course.id}/modules",
            json={"title": "X", "module_type": "UNIT", "parent_module_id": (await root_of(db, other)).id},
            headers=auth_headers(settings, room.campus.instructor),
        )
        assert r.status_code == 422
        assert r.json()["error"]["code"] == "invalid_parent"

    async def test_course_root_type_and_missing_title_are_validation_errors(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        url = f"/api/v1/courses/{room.course.id}/modules"
        headers = auth_headers(settings, room.campus.instructor)
        root_type = await client.post(url, json={"title": "R", "module_type": "COURSE_ROOT"}, headers=headers)
        no_title = await client.post(url, json={"module_type": "UNIT"}, headers=headers)
        assert root_type.status_code == no_title.status_code == 422
        assert root_type.json()["error"]["code"] == no_title.json()["error"]["code"] == "validation_error"

    async def test_a_module_below_depth_sixteen_is_refused(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        node = await root_of(db, room.course)
        for _ in range(16):
            node = await make_module(db, parent=node)
        assert node.depth == 16
        r = await client.post(
            f"/api/v1/courses/{room.course.id}/modules",
            json={"title": "Too deep", "module_type": "TOPIC", "parent_module_id": node.id},
            headers=auth_headers(settings, room.campus.instructor),
        )
        assert r.status_code == 409
        assert r.json()["error"]["code"] == "depth_limit"
        assert "16" in r.json()["error"]["message"]

    async def test_anonymous_caller_gets_401(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        room = await make_classroom(db)
        r = await client.post(f"/api/v1/courses/{room.course.id}/modules", json={"title": "X", "module_type": "UNIT"})
        assert r.status_code == 401

    async def test_ta_and_student_get_403(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        url = f"/api/v1/courses/{room.course.id}/modules"
        for user in (room.campus.ta, room.enrolled):
            r = await client.post(url, json={"title": "X", "module_type": "UNIT"}, headers=auth_headers(settings, user))
            assert r.status_code == 403, user

    async def test_admin_of_another_university_gets_404(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        r = await client.post(
            f"/api/v1/courses/{room.course.id}/modules",
            json={"title": "X", "module_type": "UNIT"},
            headers=auth_headers(settings, room.campus.outsider_admin),
        )
        assert r.status_code == 404


class TestGetModule:
    async def test_enrolled_student_reads_a_published_module(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        unit = await make_module(db, parent=await root_of(db, room.course), title="Unit 1")
        r = await client.get(f"/api/v1/modules/{unit.id}", headers=auth_headers(settings, room.enrolled))
        assert r.status_code == 200
        assert r.json()["title"] == "Unit 1"

    async def test_student_gets_404_for_an_unpublished_module_and_for_one_under_it(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        hidden = await make_module(db, parent=await root_of(db, room.course), is_published=False)
        below = await make_module(db, parent=hidden, is_published=True)
        headers = auth_headers(settings, room.enrolled)
        assert (await client.get(f"/api/v1/modules/{hidden.id}", headers=headers)).status_code == 404
        assert (await client.get(f"/api/v1/modules/{below.id}", headers=headers)).status_code == 404

    async def test_ta_reads_an_unpublished_module(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        hidden = await make_module(db, parent=await root_of(db, room.course), is_published=False)
        r = await client.get(f"/api/v1/modules/{hidden.id}", headers=auth_headers(settings, room.campus.ta))
        assert r.status_code == 200
        assert r.json()["is_published"] is False

    async def test_student_of_the_university_who_is_not_enrolled_gets_403(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        unit = await make_module(db, parent=await root_of(db, room.course))
        r = await client.get(f"/api/v1/modules/{unit.id}", headers=auth_headers(settings, room.campus.student))
        assert r.status_code == 403

    async def test_student_of_another_university_gets_404(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        unit = await make_module(db, parent=await root_of(db, room.course))
        r = await client.get(f"/api/v1/modules/{unit.id}", headers=auth_headers(settings, room.campus.outsider))
        assert r.status_code == 404

    async def test_anonymous_caller_gets_401_and_a_bad_id_is_422(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        assert (await client.get("/api/v1/modules/1")).status_code == 401
        r = await client.get("/api/v1/modules/zero", headers=auth_headers(settings, room.enrolled))
        assert r.status_code == 422
        assert r.json()["error"]["code"] == "validation_error"


class TestUpdateModule:
    async def test_instructor_renames_and_publishes_a_module(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        unit = await make_module(db, parent=await root_of(db, room.course), is_published=False)
        r = await client.patch(
            f"/api/v1/modules/{unit.id}",
            json={"title": "Renamed", "is_published": True, "module_type": "CHAPTER", "description": None},
            headers=auth_headers(settings, room.campus.instructor),
        )
        assert r.status_code == 200, r.text
        assert (r.json()["title"], r.json()["is_published"], r.json()["module_type"]) == ("Renamed", True, "CHAPTER")

    async def test_the_root_cannot_be_unpublished_or_retyped(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        root = await root_of(db, room.course)
        headers = auth_headers(settings, room.campus.instructor)
        unpublish = await client.patch(f"/api/v1/modules/{root.id}", json={"is_published": False}, headers=headers)
        retype = await client.patch(f"/api/v1/modules/{root.id}", json={"module_type": "UNIT"}, headers=headers)
        assert unpublish.status_code == retype.status_code == 409
        assert unpublish.json()["error"]["code"] == retype.json()["error"]["code"] == "root_module"

    async def test_null_title_is_a_validation_error(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        unit = await make_module(db, parent=await root_of(db, room.course))
        r = await client.patch(
            f"/api/v1/modules/{unit.id}", json={"title": None}, headers=auth_headers(settings, room.campus.instructor)
        )
        assert r.status_code == 422

    async def test_ta_gets_403_and_outsider_gets_404(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        unit = await make_module(db, parent=await root_of(db, room.course))
        url = f"/api/v1/modules/{unit.id}"
        assert (
            await client.patch(url, json={"title": "T"}, headers=auth_headers(settings, room.campus.ta))
        ).status_code == 403
        outsider = auth_headers(settings, room.campus.outsider_admin)
        assert (await client.patch(url, json={"title": "T"}, headers=outsider)).status_code == 404
        assert (await client.patch(url, json={"title": "T"})).status_code == 401

    async def test_enrolled_student_gets_404_when_patching_an_unpublished_module(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        hidden = await make_module(db, parent=await root_of(db, room.course), is_published=False)
        r = await client.patch(
            f"/api/v1/modules/{hidden.id}", json={"title": "T"}, headers=auth_headers(settings, room.enrolled)
        )
        assert r.status_code == 404

    async def test_department_instructor_of_another_department_gets_403(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        from tests.fixtures.factories import make_department

        room = await make_classroom(db)
        elsewhere = await make_department(db, university=room.campus.university)
        instructor = await make_member(db, room.campus.university, UserRole.INSTRUCTOR, department=elsewhere)
        unit = await make_module(db, parent=await root_of(db, room.course))
        r = await client.patch(
            f"/api/v1/modules/{unit.id}", json={"title": "T"}, headers=auth_headers(settings, instructor)
        )
        assert r.status_code == 403


class TestDeleteModule:
    async def test_deleting_removes_the_subtree_and_its_items_and_closes_the_gap(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        root = await root_of(db, room.course)
        a, b, c = [await make_module(db, parent=root) for _ in range(3)]
        child = await make_module(db, parent=b)
        item = await make_content_item(db, module=child, content_type=room.content_type)
        r = await client.delete(f"/api/v1/modules/{b.id}", headers=auth_headers(settings, room.campus.instructor))
        assert r.status_code == 204
        assert await sibling_order(db, root.id) == [(a.id, 0), (c.id, 1)]
        assert await db.scalar(select(Module.id).where(Module.id == child.id)) is None
        assert await db.scalar(select(ContentItem.id).where(ContentItem.id == item.id)) is None

    async def test_the_root_cannot_be_deleted(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        root = await root_of(db, room.course)
        r = await client.delete(f"/api/v1/modules/{root.id}", headers=auth_headers(settings, room.campus.admin))
        assert r.status_code == 409
        assert r.json()["error"]["code"] == "root_module"
        assert root.module_type is ModuleType.COURSE_ROOT

    async def test_student_gets_403_outsider_404_anonymous_401(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        unit = await make_module(db, parent=await root_of(db, room.course))
        url = f"/api/v1/modules/{unit.id}"
        assert (await client.delete(url, headers=auth_headers(settings, room.enrolled))).status_code == 403
        assert (await client.delete(url, headers=auth_headers(settings, room.campus.outsider_admin))).status_code == 404
        assert (await client.delete(url)).status_code == 401
        assert (
            await client.delete("/api/v1/modules/-1", headers=auth_headers(settings, room.enrolled))
        ).status_code == 422
