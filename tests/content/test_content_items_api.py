"""GET/POST /modules/{id}/content-items, GET/PATCH/DELETE /content-items/{id}, POST /content-items/{id}/move."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.content import make_classroom, make_content_item, make_course, make_module, root_of
from tests.fixtures.factories import auth_headers
from tests.fixtures.taxonomy import make_content_type
from twosigma.config import Settings
from twosigma.content.models import ContentItem


async def item_order(db: AsyncSession, module_id: int) -> list[int]:
    rows = await db.execute(
        select(ContentItem.id, ContentItem.sequence_index)
        .where(ContentItem.module_id == module_id)
        .order_by(ContentItem.sequence_index)
        .execution_options(populate_existing=True)
    )
    pairs = [(r[0], r[1]) for r in rows]
    assert [i for _, i in pairs] == list(range(len(pairs))), f"not contiguous: {pairs}"
    return [i for i, _ in pairs]


class TestCreateContentItem:
    async def test_instructor_creates_an_item_with_every_field(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        module = await make_module(db, parent=await root_of(db, room.course))
        body = {
            "content_type_id": room.content_type.id,
            "title": "Derivatives",
            "description": "Slopes",
            "data_json": {"markdown": "# Hi", "nested": {"a": [1, 2]}},
            "learning_objectives": ["differentiate polynomials"],
            "estimated_duration_seconds": 600,
            "prompt_name": "tutor-calculus",
            "prompt_label": "staging.v2",
        }
        r = await client.post(
            f"/api/v1/modules/{module.id}/content-items",
            json=body,
            headers=auth_headers(settings, room.campus.instructor),
        )
        assert r.status_code == 201, r.text
        got = r.json()
        assert got["course_id"] == room.course.id
        assert got["module_id"] == module.id
        assert got["sequence_index"] == 0
        assert {k: got[k] for k in body} == body

    async def test_prompt_label_defaults_to_production_and_insertion_shifts_items(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        module = await make_module(db, parent=await root_of(db, room.course))
        a = await make_content_item(db, module=module, content_type=room.content_type)
        b = await make_content_item(db, module=module, content_type=room.content_type)
        r = await client.post(
            f"/api/v1/modules/{module.id}/content-items",
            json={"content_type_id": room.content_type.id, "title": "First", "sequence_index": 0},
            headers=auth_headers(settings, room.campus.instructor),
        )
        assert r.status_code == 201, r.text
        assert r.json()["prompt_label"] == "production"
        assert await item_order(db, module.id) == [r.json()["id"], a.id, b.id]

    async def test_an_inactive_content_type_is_refused(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        retired = await make_content_type(db, is_active=False)
        module = await make_module(db, parent=await root_of(db, room.course))
        r = await client.post(
            f"/api/v1/modules/{module.id}/content-items",
            json={"content_type_id": retired.id, "title": "Old"},
            headers=auth_headers(settings, room.campus.instructor),
        )
        assert r.status_code == 422
        assert r.json()["error"]["code"] == "content_type_inactive"

    async def test_an_unknown_content_type_is_404_with_its_own_code(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        module = await make_module(db, parent=await root_of(db, room.course))
        r = await client.post(
            f"/api/v1/modules/{module.id}/content-items",
            json={"content_type_id": 987_654_321, "title": "Ghost"},
            headers=auth_headers(settings, room.campus.instructor),
        )
        assert (r.status_code, r.json()["error"]["code"]) == (404, "content_type_not_found")

    async def test_data_json_over_256_kib_is_413(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        module = await make_module(db, parent=await root_of(db, room.course))
        url = f"/api/v1/modules/{module.id}/content-items"
        headers = auth_headers(settings, room.campus.instructor)
        # {"t":"…"} is 8 bytes of framing.
        fits = {"content_type_id": room.content_type.id, "title": "Fits", "data_json": {"t": "x" * (256 * 1024 - 8)}}
        too_big = {**fits, "title": "Too big", "data_json": {"t": "x" * (256 * 1024 - 7)}}
        assert (await client.post(url, json=fits, headers=headers)).status_code == 201
        r = await client.post(url, json=too_big, headers=headers)
        assert r.status_code == 413
        assert r.json()["error"]["code"] == "payload_too_large"
        assert r.json()["error"]["details"] == {"max_bytes": 262144, "bytes": 262145}

    async def test_bad_fields_are_validation_errors(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        module = await make_module(db, parent=await root_of(db, room.course))
        url = f"/api/v1/modules/{module.id}/content-items"
        headers = auth_headers(settings, room.campus.instructor)
        base = {"content_type_id": room.content_type.id, "title": "T"}
        for bad in (
            {"data_json": [1, 2]},
            {"data_json": "text"},
            {"learning_objectives": "one string"},
            {"learning_objectives": [1]},
            {"prompt_label": "Production"},
            {"prompt_label": "x" * 37},
            {"estimated_duration_seconds": -1},
            {"course_id": room.course.id},
        ):
            r = await client.post(url, json={**base, **bad}, headers=headers)
            assert r.status_code == 422, bad
            assert r.json()["error"]["code"] == "validation_error"

    async def test_student_gets_403_outsider_404_anonymous_401(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        module = await make_module(db, parent=await root_of(db, room.course))
        url = f"/api/v1/modules/{module.id}/content-items"
        body = {"content_type_id": room.content_type.id, "title": "T"}
        assert (await client.post(url, json=body, headers=auth_headers(settings, room.enrolled))).status_code == 403
        assert (
            await client.post(url, json=body, headers=auth_headers(settings, room.campus.outsider_admin))
        ).status_code == 404
        assert (await client.post(url, json=body)).status_code == 401


class TestReadContentItems:
    async def test_enrolled_student_lists_and_reads_items_of_a_published_module(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        module = await make_module(db, parent=await root_of(db, room.course))
        a = await make_content_item(db, module=module, content_type=room.content_type, data_json={"k": 1})
        b = await make_content_item(db, module=module, content_type=room.content_type)
        headers = auth_headers(settings, room.enrolled)
        listing = await client.get(f"/api/v1/modules/{module.id}/content-items", headers=headers)
        assert listing.status_code == 200
        assert [i["id"] for i in listing.json()["items"]] == [a.id, b.id]
        assert listing.json()["total"] == 2
        one = await client.get(f"/api/v1/content-items/{a.id}", headers=headers)
        assert one.status_code == 200
        assert one.json()["data_json"] == {"k": 1}

    async def test_an_item_under_an_unpublished_ancestor_is_404_for_students_but_not_for_staff(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        hidden = await make_module(db, parent=await root_of(db, room.course), is_published=False)
        lesson = await make_module(db, parent=hidden)
        item = await make_content_item(db, module=lesson, content_type=room.content_type)
        student = auth_headers(settings, room.enrolled)
        assert (await client.get(f"/api/v1/content-items/{item.id}", headers=student)).status_code == 404
        assert (await client.get(f"/api/v1/modules/{lesson.id}/content-items", headers=student)).status_code == 404
        ta = auth_headers(settings, room.campus.ta)
        assert (await client.get(f"/api/v1/content-items/{item.id}", headers=ta)).status_code == 200

    async def test_completed_enrolment_still_reads_content(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        from tests.fixtures.content import make_enrollment
        from tests.fixtures.factories import make_member
        from twosigma.enums import EnrollmentStatus, UserRole

        room = await make_classroom(db)
        alumnus = await make_member(db, room.campus.university, UserRole.STUDENT)
        await make_enrollment(db, user=alumnus, offering=room.campus.offering, status=EnrollmentStatus.COMPLETED)
        dropped = await make_member(db, room.campus.university, UserRole.STUDENT)
        await make_enrollment(db, user=dropped, offering=room.campus.offering, status=EnrollmentStatus.DROPPED)
        item = await make_content_item(db, module=await make_module(db, parent=await root_of(db, room.course)))
        url = f"/api/v1/content-items/{item.id}"
        assert (await client.get(url, headers=auth_headers(settings, alumnus))).status_code == 200
        assert (await client.get(url, headers=auth_headers(settings, dropped))).status_code == 403

    async def test_outsider_gets_404_anonymous_401_bad_page_422(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        module = await make_module(db, parent=await root_of(db, room.course))
        item = await make_content_item(db, module=module, content_type=room.content_type)
        outsider = auth_headers(settings, room.campus.outsider)
        assert (await client.get(f"/api/v1/content-items/{item.id}", headers=outsider)).status_code == 404
        assert (await client.get(f"/api/v1/modules/{module.id}/content-items", headers=outsider)).status_code == 404
        assert (await client.get(f"/api/v1/content-items/{item.id}")).status_code == 401
        bad = await client.get(
            f"/api/v1/modules/{module.id}/content-items?limit=500", headers=auth_headers(settings, room.enrolled)
        )
        assert bad.status_code == 422


class TestUpdateContentItem:
    async def test_instructor_edits_fields_and_the_course_id_stays(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        item = await make_content_item(db, module=await make_module(db, parent=await root_of(db, room.course)))
        other_type = await make_content_type(db)
        r = await client.patch(
            f"/api/v1/content-items/{item.id}",
            json={
                "title": "New",
                "data_json": {"v": 2},
                "learning_objectives": ["a", "b"],
                "content_type_id": other_type.id,
            },
            headers=auth_headers(settings, room.campus.instructor),
        )
        assert r.status_code == 200, r.text
        got = r.json()
        assert (got["title"], got["data_json"], got["learning_objectives"]) == ("New", {"v": 2}, ["a", "b"])
        assert (got["content_type_id"], got["course_id"]) == (other_type.id, room.course.id)

    async def test_switching_to_an_inactive_type_or_oversized_data_is_refused(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        item = await make_content_item(db, module=await make_module(db, parent=await root_of(db, room.course)))
        retired = await make_content_type(db, is_active=False)
        url = f"/api/v1/content-items/{item.id}"
        headers = auth_headers(settings, room.campus.instructor)
        inactive = await client.patch(url, json={"content_type_id": retired.id}, headers=headers)
        assert (inactive.status_code, inactive.json()["error"]["code"]) == (422, "content_type_inactive")
        big = await client.patch(url, json={"data_json": {"t": "é" * 140_000}}, headers=headers)
        assert (big.status_code, big.json()["error"]["code"]) == (413, "payload_too_large")
        null_title = await client.patch(url, json={"title": None}, headers=headers)
        assert null_title.status_code == 422

    async def test_ta_gets_403_outsider_404_anonymous_401(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        item = await make_content_item(db, module=await make_module(db, parent=await root_of(db, room.course)))
        url = f"/api/v1/content-items/{item.id}"
        assert (
            await client.patch(url, json={"title": "T"}, headers=auth_headers(settings, room.campus.ta))
        ).status_code == 403
        assert (
            await client.patch(url, json={"title": "T"}, headers=auth_headers(settings, room.campus.outsider_admin))
        ).status_code == 404
        assert (await client.patch(url, json={"title": "T"})).status_code == 401


class TestDeleteContentItem:
    async def test_deleting_closes_the_gap(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        module = await make_module(db, parent=await root_of(db, room.course))
        a, b, c = [await make_content_item(db, module=module, content_type=room.content_type) for _ in range(3)]
        r = await client.delete(f"/api/v1/content-items/{b.id}", headers=auth_headers(settings, room.campus.instructor))
        assert r.status_code == 204
        assert await item_order(db, module.id) == [a.id, c.id]

    async def test_student_gets_403_outsider_404_anonymous_401(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        item = await make_content_item(db, module=await make_module(db, parent=await root_of(db, room.course)))
        url = f"/api/v1/content-items/{item.id}"
        assert (await client.delete(url, headers=auth_headers(settings, room.enrolled))).status_code == 403
        assert (await client.delete(url, headers=auth_headers(settings, room.campus.outsider_admin))).status_code == 404
        assert (await client.delete(url)).status_code == 401


class TestMoveContentItem:
    async def test_moving_across_modules_keeps_both_lists_contiguous(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        root = await root_of(db, room.course)
        m1, m2 = await make_module(db, parent=root), await make_module(db, parent=root)
        a, b, c = [await make_content_item(db, module=m1, content_type=room.content_type) for _ in range(3)]
        x = await make_content_item(db, module=m2, content_type=room.content_type)
        r = await client.post(
            f"/api/v1/content-items/{a.id}/move",
            json={"module_id": m2.id, "sequence_index": 1},
            headers=auth_headers(settings, room.campus.instructor),
        )
        assert r.status_code == 200, r.text
        assert (r.json()["module_id"], r.json()["sequence_index"], r.json()["course_id"]) == (m2.id, 1, room.course.id)
        assert await item_order(db, m1.id) == [b.id, c.id]
        assert await item_order(db, m2.id) == [x.id, a.id]

    async def test_reordering_within_a_module(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        module = await make_module(db, parent=await root_of(db, room.course))
        a, b, c = [await make_content_item(db, module=module, content_type=room.content_type) for _ in range(3)]
        r = await client.post(
            f"/api/v1/content-items/{c.id}/move",
            json={"module_id": module.id, "sequence_index": 0},
            headers=auth_headers(settings, room.campus.instructor),
        )
        assert r.status_code == 200
        assert await item_order(db, module.id) == [c.id, a.id, b.id]

    async def test_another_courses_module_and_an_index_out_of_range_are_refused(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        module = await make_module(db, parent=await root_of(db, room.course))
        item = await make_content_item(db, module=module, content_type=room.content_type)
        other = await root_of(db, await make_course(db, university=room.campus.university))
        headers = auth_headers(settings, room.campus.instructor)
        url = f"/api/v1/content-items/{item.id}/move"
        cross = await client.post(url, json={"module_id": other.id, "sequence_index": 0}, headers=headers)
        assert (cross.status_code, cross.json()["error"]["code"]) == (422, "invalid_module")
        far = await client.post(url, json={"module_id": module.id, "sequence_index": 1}, headers=headers)
        assert (far.status_code, far.json()["error"]["code"]) == (422, "sequence_index_out_of_range")
        assert (await client.post(url, json={"module_id": module.id}, headers=headers)).status_code == 422

    async def test_ta_gets_403_outsider_404_anonymous_401(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        room = await make_classroom(db)
        module = await make_module(db, parent=await root_of(db, room.course))
        item = await make_content_item(db, module=module, content_type=room.content_type)
        url = f"/api/v1/content-items/{item.id}/move"
        body = {"module_id": module.id, "sequence_index": 0}
        assert (await client.post(url, json=body, headers=auth_headers(settings, room.campus.ta))).status_code == 403
        assert (
            await client.post(url, json=body, headers=auth_headers(settings, room.campus.outsider_admin))
        ).status_code == 404
        assert (await client.post(url, json=body)).status_code == 401
