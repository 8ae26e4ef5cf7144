from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.factories import auth_headers, make_department, make_university
from tests.fixtures.tenancy import make_campus, make_platform_admin
from twosigma.config import Settings


def _list_url(university_id: int) -> str:
    return f"/api/v1/universities/{university_id}/departments"


def _url(department_id: int) -> str:
    return f"/api/v1/departments/{department_id}"


class TestListDepartments:
    async def test_anyone_lists_an_active_universitys_departments(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        campus = await make_campus(db)
        body = (await client.get(_list_url(campus.university.id))).json()
        assert {d["id"] for d in body["items"]} == {campus.department.id, campus.other_department.id}
        assert body["total"] == 2

    async def test_search_by_name(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        university = await make_university(db)
        physics = await make_department(db, university=university, name="Physics")
        await make_department(db, university=university, name="History")
        body = (await client.get(_list_url(university.id), params={"q": "phys"})).json()
        assert [d["id"] for d in body["items"]] == [physics.id]

    async def test_inactive_university_is_404(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        university = await make_university(db, is_active=False)
        assert (await client.get(_list_url(university.id))).status_code == 404

    async def test_bad_limit_is_422(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        university = await make_university(db)
        assert (await client.get(_list_url(university.id), params={"limit": 0})).status_code == 422


class TestCreateDepartment:
    async def test_university_admin_creates_a_department(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus = await make_campus(db)
        response = await client.post(
            _list_url(campus.university.id),
            json={"name": "Mathematics", "code": "MATH"},
            headers=auth_headers(settings, campus.admin),
        )
        assert response.status_code == 201
        assert response.json()["university_id"] == campus.university.id
        assert response.json()["code"] == "MATH"

    async def test_platform_admin_creates_a_department(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        admin = await make_platform_admin(db)
        university = await make_university(db)
        response = await client.post(
            _list_url(university.id), json={"name": "Chemistry"}, headers=auth_headers(settings, admin)
        )
        assert response.status_code == 201
        assert response.json()["code"] is None

    async def test_duplicate_code_in_the_university_is_409(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus = await make_campus(db)
        response = await client.post(
            _list_url(campus.university.id),
            json={"name": "Again", "code": campus.department.code.lower()},  # type: ignore[union-attr]
            headers=auth_headers(settings, campus.admin),
        )
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "department_code_exists"

    async def test_missing_name_is_422(self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings) -> None:
        campus = await make_campus(db)
        response = await client.post(
            _list_url(campus.university.id), json={"code": "X"}, headers=auth_headers(settings, campus.admin)
        )
        assert response.status_code == 422

    async def test_department_admin_is_403(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus = await make_campus(db)
        response = await client.post(
            _list_url(campus.university.id), json={"name": "X"}, headers=auth_headers(settings, campus.department_admin)
        )
        assert response.status_code == 403

    async def test_another_universitys_admin_is_403(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus, other = await make_campus(db), await make_campus(db)
        response = await client.post(
            _list_url(campus.university.id), json={"name": "X"}, headers=auth_headers(settings, other.admin)
        )
        assert response.status_code == 403

    async def test_another_universitys_admin_gets_404_when_it_is_inactive(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus, other = await make_campus(db, is_active=False), await make_campus(db)
        response = await client.post(
            _list_url(campus.university.id), json={"name": "X"}, headers=auth_headers(settings, other.admin)
        )
        assert response.status_code == 404

    async def test_without_a_token_is_401(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        university = await make_university(db)
        assert (await client.post(_list_url(university.id), json={"name": "X"})).status_code == 401


class TestGetDepartment:
    async def test_anyone_reads_a_department(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        campus = await make_campus(db)
        body = (await client.get(_url(campus.department.id))).json()
        assert body == {
            "id": campus.department.id,
            "university_id": campus.university.id,
            "name": campus.department.name,
            "code": campus.department.code,
        }

    async def test_department_of_an_inactive_university_is_404(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        campus = await make_campus(db, is_active=False)
        assert (await client.get(_url(campus.department.id))).status_code == 404

    async def test_unknown_department_is_404(self, client: httpx.AsyncClient) -> None:
        assert (await client.get(_url(99999999))).status_code == 404

    async def test_zero_id_is_422(self, client: httpx.AsyncClient) -> None:
        assert (await client.get(_url(0))).status_code == 422


class TestUpdateDepartment:
    async def test_department_admin_renames_their_department(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus = await make_campus(db)
        response = await client.patch(
            _url(campus.department.id),
            json={"name": "Applied Physics"},
            headers=auth_headers(settings, campus.department_admin),
        )
        assert response.status_code == 200
        assert response.json()["name"] == "Applied Physics"

    async def test_department_admin_may_not_edit_another_department(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus = await make_campus(db)
        response = await client.patch(
            _url(campus.other_department.id),
            json={"name": "X"},
            headers=auth_headers(settings, campus.department_admin),
        )
        assert response.status_code == 403

    async def test_university_admin_clears_the_code(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus = await make_campus(db)
        response = await client.patch(
            _url(campus.department.id), json={"code": None}, headers=auth_headers(settings, campus.admin)
        )
        assert response.json()["code"] is None

    async def test_instructor_is_403(self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings) -> None:
        campus = await make_campus(db)
        response = await client.patch(
            _url(campus.department.id), json={"name": "X"}, headers=auth_headers(settings, campus.instructor)
        )
        assert response.status_code == 403

    async def test_empty_name_is_422(self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings) -> None:
        campus = await make_campus(db)
        response = await client.patch(
            _url(campus.department.id), json={"name": "   "}, headers=auth_headers(settings, campus.admin)
        )
        assert response.status_code == 422

    async def test_without_a_token_is_401(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        campus = await make_campus(db)
        assert (await client.patch(_url(campus.department.id), json={"name": "X"})).status_code == 401


class TestDeleteDepartment:
    async def test_university_admin_deletes_a_department(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus = await make_campus(db)
        response = await client.delete(_url(campus.other_department.id), headers=auth_headers(settings, campus.admin))
        assert response.status_code == 204
        assert (await client.get(_url(campus.other_department.id))).status_code == 404

    async def test_department_admin_may_not_delete_their_department(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus = await make_campus(db)
        response = await client.delete(
            _url(campus.department.id), headers=auth_headers(settings, campus.department_admin)
        )
        assert response.status_code == 403

    async def test_another_universitys_admin_is_403(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus, other = await make_campus(db), await make_campus(db)
        response = await client.delete(_url(campus.department.id), headers=auth_headers(settings, other.admin))
        assert response.status_code == 403

    async def test_without_a_token_is_401(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        campus = await make_campus(db)
        assert (await client.delete(_url(campus.department.id))).status_code == 401

    async def test_zero_id_is_422(self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings) -> None:
        campus = await make_campus(db)
        assert (await client.delete(_url(0), headers=auth_headers(settings, campus.admin))).status_code == 422
