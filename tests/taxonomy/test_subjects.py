from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.taxonomy import make_domain, make_subject
from twosigma.courses.models import Course
from twosigma.taxonomy.models import Domain, Subject
from twosigma.taxonomy.service import MAX_SUBJECT_DEPTH

Headers = dict[str, str]
CourseOn = Callable[[Subject], Awaitable[Course]]


async def _chain(db: AsyncSession, length: int, domain: Domain | None = None) -> list[Subject]:
    """A root and `length - 1` descendants, each the child of the previous one."""
    subjects = [await make_subject(db, domain=domain)]
    for _ in range(length - 1):
        subjects.append(await make_subject(db, parent=subjects[-1]))
    return subjects


class TestListSubjects:
    async def test_anyone_lists_the_subjects_of_a_domain(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        domain = await make_domain(db)
        root = await make_subject(db, domain=domain, name="Algebra")
        await make_subject(db, parent=root, name="Linear algebra")
        await make_subject(db)  # another domain
        body = (await client.get("/api/v1/subjects", params={"domain_id": domain.id})).json()
        assert [s["name"] for s in body["items"]] == ["Algebra", "Linear algebra"]
        assert body["items"][1]["parent_subject_id"] == root.id
        assert body["total"] == 2

    async def test_parent_filter_lists_direct_children_only(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        root, child, _grandchild = await _chain(db, 3)
        body = (await client.get("/api/v1/subjects", params={"parent_subject_id": root.id})).json()
        assert [s["id"] for s in body["items"]] == [child.id]

    async def test_root_only_lists_top_level_subjects(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        domain = await make_domain(db)
        root = await make_subject(db, domain=domain)
        await make_subject(db, parent=root)
        params = {"domain_id": domain.id, "root_only": "true"}
        body = (await client.get("/api/v1/subjects", params=params)).json()
        assert [s["id"] for s in body["items"]] == [root.id]

    async def test_search_matches_part_of_the_name(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        domain = await make_domain(db)
        await make_subject(db, domain=domain, name="Organic chemistry")
        await make_subject(db, domain=domain, name="Optics")
        body = (await client.get("/api/v1/subjects", params={"domain_id": domain.id, "q": "CHEM"})).json()
        assert [s["name"] for s in body["items"]] == ["Organic chemistry"]

    async def test_root_only_with_a_parent_filter_is_422(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/subjects", params={"root_only": "true", "parent_subject_id": 1})
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "conflicting_filters"

    @pytest.mark.parametrize("params", [{"domain_id": "x"}, {"domain_id": 0}, {"root_only": "maybe"}])
    async def test_malformed_filters_are_422(self, client: httpx.AsyncClient, params: dict[str, object]) -> None:
        response = await client.get("/api/v1/subjects", params=params)
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "validation_error"


class TestGetSubject:
    async def test_anyone_reads_a_subject(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        root, child = await _chain(db, 2)
        response = await client.get(f"/api/v1/subjects/{child.id}")
        assert response.status_code == 200
        assert response.json() == {
            "id": child.id,
            "domain_id": root.domain_id,
            "parent_subject_id": root.id,
            "name": child.name,
        }

    async def test_unknown_subject_is_404(self, client: httpx.AsyncClient) -> None:
        assert (await client.get("/api/v1/subjects/999999")).status_code == 404

    async def test_non_numeric_id_is_422(self, client: httpx.AsyncClient) -> None:
        assert (await client.get("/api/v1/subjects/abc")).status_code == 422


class TestCreateSubject:
    async def test_platform_admin_creates_a_top_level_subject(
        self, client: httpx.AsyncClient, db: AsyncSession, admin_headers: Headers
    ) -> None:
        domain = await make_domain(db)
        body = {"domain_id": domain.id, "name": "Geometry"}
        response = await client.post("/api/v1/subjects", json=body, headers=admin_headers)
        assert response.status_code == 201
        assert response.json()["parent_subject_id"] is None
        assert response.json()["domain_id"] == domain.id

    async def test_platform_admin_creates_a_child_subject(
        self, client: httpx.AsyncClient, db: AsyncSession, admin_headers: Headers
    ) -> None:
        parent = await make_subject(db)
        body = {"domain_id": parent.domain_id, "name": "Topology", "parent_subject_id": parent.id}
        response = await client.post("/api/v1/subjects", json=body, headers=admin_headers)
        assert response.status_code == 201
        assert response.json()["parent_subject_id"] == parent.id

    async def test_a_parent_that_does_not_exist_is_422(
        self, client: httpx.AsyncClient, db: AsyncSession, admin_headers: Headers
    ) -> None:
        domain = await make_domain(db)
        body = {"domain_id": domain.id, "name": "X", "parent_subject_id": 999999}
        response = await client.post("/api/v1/subjects", json=body, headers=admin_headers)
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "parent_subject_not_found"

    async def test_a_parent_in_another_domain_is_422(
        self, client: httpx.AsyncClient, db: AsyncSession, admin_headers: Headers
    ) -> None:
        domain = await make_domain(db)
        foreign_parent = await make_subject(db)
        body = {"domain_id": domain.id, "name": "X", "parent_subject_id": foreign_parent.id}
        response = await client.post("/api/v1/subjects", json=body, headers=admin_headers)
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "parent_subject_domain_mismatch"

    async def test_a_domain_that_does_not_exist_is_422(self, client: httpx.AsyncClient, admin_headers: Headers) -> None:
        response = await client.post("/api/v1/subjects", json={"domain_id": 999999, "name": "X"}, headers=admin_headers)
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "domain_not_found"

    async def test_a_sibling_with_the_same_name_is_409(
        self, client: httpx.AsyncClient, db: AsyncSession, admin_headers: Headers
    ) -> None:
        parent = await make_subject(db)
        await make_subject(db, parent=parent, name="Calculus")
        body = {"domain_id": parent.domain_id, "name": "calculus", "parent_subject_id": parent.id}
        response = await client.post("/api/v1/subjects", json=body, headers=admin_headers)
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "subject_exists"

    async def test_the_same_name_under_another_parent_is_allowed(
        self, client: httpx.AsyncClient, db: AsyncSession, admin_headers: Headers
    ) -> None:
        domain = await make_domain(db)
        first, second = await make_subject(db, domain=domain), await make_subject(db, domain=domain)
        await make_subject(db, parent=first, name="Foundations")
        body = {"domain_id": domain.id, "name": "Foundations", "parent_subject_id": second.id}
        assert (await client.post("/api/v1/subjects", json=body, headers=admin_headers)).status_code == 201

    async def test_a_child_of_the_deepest_level_is_422(
        self, client: httpx.AsyncClient, db: AsyncSession, admin_headers: Headers
    ) -> None:
        deepest = (await _chain(db, MAX_SUBJECT_DEPTH))[-1]
        body = {"domain_id": deepest.domain_id, "name": "Too deep", "parent_subject_id": deepest.id}
        response = await client.post("/api/v1/subjects", json=body, headers=admin_headers)
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "subject_too_deep"

    async def test_a_child_reaching_the_deepest_level_is_allowed(
        self, client: httpx.AsyncClient, db: AsyncSession, admin_headers: Headers
    ) -> None:
        parent = (await _chain(db, MAX_SUBJECT_DEPTH - 1))[-1]
        body = {"domain_id": parent.domain_id, "name": "Deepest", "parent_subject_id": parent.id}
        assert (await client.post("/api/v1/subjects", json=body, headers=admin_headers)).status_code == 201

    @pytest.mark.parametrize(
        "body", [{"name": "X"}, {"domain_id": 1}, {"domain_id": 1, "name": ""}, {"domain_id": "a", "name": "X"}]
    )
    async def test_invalid_body_is_422(
        self, client: httpx.AsyncClient, admin_headers: Headers, body: dict[str, object]
    ) -> None:
        response = await client.post("/api/v1/subjects", json=body, headers=admin_headers)
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "validation_error"

    async def test_anonymous_caller_gets_401(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        domain = await make_domain(db)
        response = await client.post("/api/v1/subjects", json={"domain_id": domain.id, "name": "X"})
        assert response.status_code == 401

    async def test_university_admin_gets_403(
        self, client: httpx.AsyncClient, db: AsyncSession, university_admin_headers: Headers
    ) -> None:
        domain = await make_domain(db)
        body = {"domain_id": domain.id, "name": "X"}
        response = await client.post("/api/v1/subjects", json=body, headers=university_admin_headers)
        assert response.status_code == 403


class TestUpdateSubject:
    async def test_platform_admin_renames_a_subject(
        self, client: httpx.AsyncClient, db: AsyncSession, admin_headers: Headers
    ) -> None:
        subject = await make_subject(db)
        response = await client.patch(f"/api/v1/subjects/{subject.id}", json={"name": "New"}, headers=admin_headers)
        assert response.status_code == 200
        assert response.json()["name"] == "New"

    async def test_a_subject_moves_under_another_parent_of_its_domain(
        self, client: httpx.AsyncClient, db: AsyncSession, admin_headers: Headers
    ) -> None:
        domain = await make_domain(db)
        first, second = await make_subject(db, domain=domain), await make_subject(db, domain=domain)
        child = await make_subject(db, parent=first)
        body = {"parent_subject_id": second.id}
        response = await client.patch(f"/api/v1/subjects/{child.id}", json=body, headers=admin_headers)
        assert response.status_code == 200
        assert response.json()["parent_subject_id"] == second.id

    async def test_a_null_parent_makes_the_subject_top_level(
        self, client: httpx.AsyncClient, db: AsyncSession, admin_headers: Headers
    ) -> None:
        _root, child = await _chain(db, 2)
        body = {"parent_subject_id": None}
        response = await client.patch(f"/api/v1/subjects/{child.id}", json=body, headers=admin_headers)
        assert response.status_code == 200
        assert response.json()["parent_subject_id"] is None

    async def test_a_subject_cannot_be_its_own_parent(
        self, client: httpx.AsyncClient, db: AsyncSession, admin_headers: Headers
    ) -> None:
        subject = await make_subject(db)
        body = {"parent_subject_id": subject.id}
        response = await client.patch(f"/api/v1/subjects/{subject.id}", json=body, headers=admin_headers)
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "subject_cycle"

    async def test_a_subject_cannot_move_under_its_child(
        self, client: httpx.AsyncClient, db: AsyncSession, admin_headers: Headers
    ) -> None:
        root, child = await _chain(db, 2)
        body = {"parent_subject_id": child.id}
        response = await client.patch(f"/api/v1/subjects/{root.id}", json=body, headers=admin_headers)
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "subject_cycle"

    async def test_a_subject_cannot_move_under_a_deep_descendant(
        self, client: httpx.AsyncClient, db: AsyncSession, admin_headers: Headers
    ) -> None:
        chain = await _chain(db, 6)
        body = {"parent_subject_id": chain[-1].id}
        response = await client.patch(f"/api/v1/subjects/{chain[1].id}", json=body, headers=admin_headers)
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "subject_cycle"
        await db.refresh(chain[1])
        assert chain[1].parent_subject_id == chain[0].id

    async def test_moving_a_deep_subject_up_is_not_a_cycle(
        self, client: httpx.AsyncClient, db: AsyncSession, admin_headers: Headers
    ) -> None:
        chain = await _chain(db, 5)
        body = {"parent_subject_id": chain[0].id}
        response = await client.patch(f"/api/v1/subjects/{chain[-1].id}", json=body, headers=admin_headers)
        assert response.status_code == 200

    async def test_moving_a_subtree_below_the_depth_limit_is_422(
        self, client: httpx.AsyncClient, db: AsyncSession, admin_headers: Headers
    ) -> None:
        domain = await make_domain(db)
        deep = await _chain(db, MAX_SUBJECT_DEPTH - 2, domain)
        top = (await _chain(db, 3, domain))[0]
        body = {"parent_subject_id": deep[-1].id}
        response = await client.patch(f"/api/v1/subjects/{top.id}", json=body, headers=admin_headers)
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "subject_too_deep"

    async def test_moving_a_subtree_to_exactly_the_depth_limit_is_allowed(
        self, client: httpx.AsyncClient, db: AsyncSession, admin_headers: Headers
    ) -> None:
        domain = await make_domain(db)
        deep = await _chain(db, MAX_SUBJECT_DEPTH - 3, domain)
        top = (await _chain(db, 3, domain))[0]
        body = {"parent_subject_id": deep[-1].id}
        response = await client.patch(f"/api/v1/subjects/{top.id}", json=body, headers=admin_headers)
        assert response.status_code == 200

    async def test_changing_domain_moves_the_whole_subtree(
        self, client: httpx.AsyncClient, db: AsyncSession, admin_headers: Headers
    ) -> None:
        root, child, grandchild = await _chain(db, 3)
        target = await make_domain(db)
        body = {"domain_id": target.id, "parent_subject_id": None}
        response = await client.patch(f"/api/v1/subjects/{child.id}", json=body, headers=admin_headers)
        assert response.status_code == 200
        domains = {row.id: row.domain_id for row in await db.execute(select(Subject.id, Subject.domain_id))}
        assert (domains[root.id], domains[child.id], domains[grandchild.id]) == (root.domain_id, target.id, target.id)

    async def test_changing_domain_while_keeping_a_parent_of_the_old_domain_is_422(
        self, client: httpx.AsyncClient, db: AsyncSession, admin_headers: Headers
    ) -> None:
        _root, child = await _chain(db, 2)
        target = await make_domain(db)
        body = {"domain_id": target.id}
        response = await client.patch(f"/api/v1/subjects/{child.id}", json=body, headers=admin_headers)
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "parent_subject_domain_mismatch"

    async def test_renaming_to_a_sibling_name_is_409(
        self, client: httpx.AsyncClient, db: AsyncSession, admin_headers: Headers
    ) -> None:
        parent = await make_subject(db)
        await make_subject(db, parent=parent, name="Statics")
        other = await make_subject(db, parent=parent)
        response = await client.patch(f"/api/v1/subjects/{other.id}", json={"name": "STATICS"}, headers=admin_headers)
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "subject_exists"

    @pytest.mark.parametrize("body", [{"name": None}, {"domain_id": None}, {"name": ""}, {"unknown": 1}])
    async def test_invalid_body_is_422(
        self, client: httpx.AsyncClient, db: AsyncSession, admin_headers: Headers, body: dict[str, object]
    ) -> None:
        subject = await make_subject(db)
        response = await client.patch(f"/api/v1/subjects/{subject.id}", json=body, headers=admin_headers)
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "validation_error"

    async def test_unknown_subject_is_404_for_an_admin(self, client: httpx.AsyncClient, admin_headers: Headers) -> None:
        assert (await client.patch("/api/v1/subjects/999999", json={}, headers=admin_headers)).status_code == 404

    async def test_anonymous_caller_gets_401(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        subject = await make_subject(db)
        assert (await client.patch(f"/api/v1/subjects/{subject.id}", json={"name": "X"})).status_code == 401

    async def test_university_admin_gets_403(
        self, client: httpx.AsyncClient, db: AsyncSession, university_admin_headers: Headers
    ) -> None:
        subject = await make_subject(db)
        response = await client.patch(
            f"/api/v1/subjects/{subject.id}", json={"name": "X"}, headers=university_admin_headers
        )
        assert response.status_code == 403


class TestDeleteSubject:
    async def test_deleting_a_subject_deletes_its_descendants(
        self, client: httpx.AsyncClient, db: AsyncSession, admin_headers: Headers
    ) -> None:
        chain = await _chain(db, 3)
        response = await client.delete(f"/api/v1/subjects/{chain[1].id}", headers=admin_headers)
        assert response.status_code == 204
        ids = [s.id for s in chain]
        remaining = (await db.scalars(select(Subject.id).where(Subject.id.in_(ids)))).all()
        assert remaining == [chain[0].id]

    async def test_a_course_primary_subject_cannot_be_deleted(
        self, client: httpx.AsyncClient, db: AsyncSession, admin_headers: Headers, course_on: CourseOn
    ) -> None:
        subject = await make_subject(db)
        await course_on(subject)
        response = await client.delete(f"/api/v1/subjects/{subject.id}", headers=admin_headers)
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "subject_in_use"

    async def test_an_ancestor_of_a_course_primary_subject_cannot_be_deleted(
        self, client: httpx.AsyncClient, db: AsyncSession, admin_headers: Headers, course_on: CourseOn
    ) -> None:
        chain = await _chain(db, 4)
        await course_on(chain[-1])
        await course_on(chain[-2])
        response = await client.delete(f"/api/v1/subjects/{chain[0].id}", headers=admin_headers)
        assert response.status_code == 409
        assert response.json()["error"]["details"] == {"course_count": 2}
        assert await db.scalar(select(func.count()).select_from(Subject).where(Subject.id == chain[0].id)) == 1

    async def test_unknown_subject_is_404_for_an_admin(self, client: httpx.AsyncClient, admin_headers: Headers) -> None:
        assert (await client.delete("/api/v1/subjects/999999", headers=admin_headers)).status_code == 404

    async def test_anonymous_caller_gets_401(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        subject = await make_subject(db)
        assert (await client.delete(f"/api/v1/subjects/{subject.id}")).status_code == 401

    async def test_university_admin_gets_403(
        self, client: httpx.AsyncClient, db: AsyncSession, university_admin_headers: Headers
    ) -> None:
        subject = await make_subject(db)
        response = await client.delete(f"/api/v1/subjects/{subject.id}", headers=university_admin_headers)
        assert response.status_code == 403
