from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.taxonomy import make_domain, make_subject
from twosigma.courses.models import Course
from twosigma.taxonomy.models import Domain, Subject

Headers = dict[str, str]
CourseOn = Callable[[Subject], Awaitable[Course]]


class TestListDomains:
    async def test_anyone_lists_domains_in_name_order(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        await make_domain(db, name="Zoology-x")
        await make_domain(db, name="Algebra-x")
        body = (await client.get("/api/v1/domains", params={"q": "-x"})).json()
        assert [d["name"] for d in body["items"]] == ["Algebra-x", "Zoology-x"]
        assert (body["total"], body["page"], body["pages"]) == (2, 1, 1)

    async def test_search_is_case_insensitive_and_literal(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        await make_domain(db, name="Mathematics 100%")
        await make_domain(db, name="Math 1000")
        body = (await client.get("/api/v1/domains", params={"q": "MATHEMATICS 100%"})).json()
        assert [d["name"] for d in body["items"]] == ["Mathematics 100%"]

    async def test_limit_out_of_range_is_422(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/domains", params={"limit": 101})
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "validation_error"


class TestGetDomain:
    async def test_anyone_reads_a_domain(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        domain = await make_domain(db, name="Physics")
        response = await client.get(f"/api/v1/domains/{domain.id}")
        assert response.status_code == 200
        assert response.json() == {"id": domain.id, "name": "Physics"}

    async def test_unknown_domain_is_404(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/domains/999999")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"

    async def test_non_numeric_id_is_422(self, client: httpx.AsyncClient) -> None:
        assert (await client.get("/api/v1/domains/abc")).status_code == 422


class TestCreateDomain:
    async def test_platform_admin_creates_a_domain(self, client: httpx.AsyncClient, admin_headers: Headers) -> None:
        response = await client.post("/api/v1/domains", json={"name": "  Chemistry "}, headers=admin_headers)
        assert response.status_code == 201
        assert response.json()["name"] == "Chemistry"

    @pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "   "}, {"name": "x" * 101}, {"name": "A", "x": 1}])
    async def test_invalid_body_is_422(
        self, client: httpx.AsyncClient, admin_headers: Headers, body: dict[str, object]
    ) -> None:
        response = await client.post("/api/v1/domains", json=body, headers=admin_headers)
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "validation_error"

    async def test_duplicate_name_is_409_whatever_the_case(
        self, client: httpx.AsyncClient, db: AsyncSession, admin_headers: Headers
    ) -> None:
        await make_domain(db, name="Biology")
        response = await client.post("/api/v1/domains", json={"name": "biology"}, headers=admin_headers)
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "domain_exists"

    async def test_anonymous_caller_gets_401(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/api/v1/domains", json={"name": "Art"})
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"

    async def test_university_admin_gets_403(
        self, client: httpx.AsyncClient, university_admin_headers: Headers
    ) -> None:
        response = await client.post("/api/v1/domains", json={"name": "Art"}, headers=university_admin_headers)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"


class TestUpdateDomain:
    async def test_platform_admin_renames_a_domain(
        self, client: httpx.AsyncClient, db: AsyncSession, admin_headers: Headers
    ) -> None:
        domain = await make_domain(db)
        response = await client.patch(f"/api/v1/domains/{domain.id}", json={"name": "Renamed"}, headers=admin_headers)
        assert response.status_code == 200
        assert response.json() == {"id": domain.id, "name": "Renamed"}

    async def test_renaming_only_the_case_is_allowed(
        self, client: httpx.AsyncClient, db: AsyncSession, admin_headers: Headers
    ) -> None:
        domain = await make_domain(db, name="history")
        response = await client.patch(f"/api/v1/domains/{domain.id}", json={"name": "History"}, headers=admin_headers)
        assert response.status_code == 200

    async def test_renaming_to_a_taken_name_is_409(
        self, client: httpx.AsyncClient, db: AsyncSession, admin_headers: Headers
    ) -> None:
        await make_domain(db, name="Taken")
        domain = await make_domain(db)
        response = await client.patch(f"/api/v1/domains/{domain.id}", json={"name": "TAKEN"}, headers=admin_headers)
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "domain_exists"

    async def test_null_name_is_422(self, client: httpx.AsyncClient, db: AsyncSession, admin_headers: Headers) -> None:
        domain = await make_domain(db)
        response = await client.patch(f"/api/v1/domains/{domain.id}", json={"name": None}, headers=admin_headers)
        assert response.status_code == 422

    async def test_unknown_domain_is_404_for_an_admin(self, client: httpx.AsyncClient, admin_headers: Headers) -> None:
        response = await client.patch("/api/v1/domains/999999", json={"name": "X"}, headers=admin_headers)
        assert response.status_code == 404

    async def test_anonymous_caller_gets_401_even_for_an_unknown_domain(self, client: httpx.AsyncClient) -> None:
        assert (await client.patch("/api/v1/domains/999999", json={"name": "X"})).status_code == 401

    async def test_university_admin_gets_403(
        self, client: httpx.AsyncClient, db: AsyncSession, university_admin_headers: Headers
    ) -> None:
        domain = await make_domain(db)
        response = await client.patch(
            f"/api/v1/domains/{domain.id}", json={"name": "X"}, headers=university_admin_headers
        )
        assert response.status_code == 403


class TestDeleteDomain:
    async def test_deleting_a_domain_deletes_its_subjects(
        self, client: httpx.AsyncClient, db: AsyncSession, admin_headers: Headers
    ) -> None:
        domain = await make_domain(db)
        root = await make_subject(db, domain=domain)
        await make_subject(db, parent=root)
        response = await client.delete(f"/api/v1/domains/{domain.id}", headers=admin_headers)
        assert response.status_code == 204
        assert await db.scalar(select(func.count()).select_from(Domain).where(Domain.id == domain.id)) == 0
        assert await db.scalar(select(func.count()).select_from(Subject).where(Subject.domain_id == domain.id)) == 0

    async def test_a_domain_whose_subject_is_a_course_primary_subject_is_409(
        self, client: httpx.AsyncClient, db: AsyncSession, admin_headers: Headers, course_on: CourseOn
    ) -> None:
        domain = await make_domain(db)
        leaf = await make_subject(db, parent=await make_subject(db, domain=domain))
        await course_on(leaf)
        response = await client.delete(f"/api/v1/domains/{domain.id}", headers=admin_headers)
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "domain_in_use"
        assert response.json()["error"]["details"] == {"course_count": 1}

    async def test_unknown_domain_is_404_for_an_admin(self, client: httpx.AsyncClient, admin_headers: Headers) -> None:
        assert (await client.delete("/api/v1/domains/999999", headers=admin_headers)).status_code == 404

    async def test_anonymous_caller_gets_401(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        domain = await make_domain(db)
        assert (await client.delete(f"/api/v1/domains/{domain.id}")).status_code == 401

    async def test_university_admin_gets_403(
        self, client: httpx.AsyncClient, db: AsyncSession, university_admin_headers: Headers
    ) -> None:
        domain = await make_domain(db)
        response = await client.delete(f"/api/v1/domains/{domain.id}", headers=university_admin_headers)
        assert response.status_code == 403
