from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.factories import auth_headers, make_country, make_university
from tests.fixtures.tenancy import make_campus, make_platform_admin, unused_country_codes
from twosigma.config import Settings

URL = "/api/v1/countries"


class TestListCountries:
    async def test_anyone_may_list_countries_without_a_token(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        (code,) = await unused_country_codes(db)
        country = await make_country(db, code=code, name="Qatarish")
        body = (await client.get(URL, params={"limit": 100, "q": "qatarish"})).json()
        assert body["items"] == [{"id": country.id, "code": code, "name": "Qatarish"}]
        assert body["total"] == 1

    async def test_search_matches_the_code_case_insensitively(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        (code,) = await unused_country_codes(db)
        country = await make_country(db, code=code, name="Somewhere")
        body = (await client.get(URL, params={"q": code.lower(), "limit": 100})).json()
        assert country.id in [c["id"] for c in body["items"]]

    async def test_search_wildcards_are_literal(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        await make_country(db, name="Plain name")
        body = (await client.get(URL, params={"q": "%"})).json()
        assert body["total"] == 0

    async def test_bad_page_is_422(self, client: httpx.AsyncClient) -> None:
        response = await client.get(URL, params={"limit": 1000})
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "validation_error"


class TestGetCountry:
    async def test_anyone_may_read_a_country(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        country = await make_country(db, name="Dee")
        response = await client.get(f"{URL}/{country.id}")
        assert response.status_code == 200
        assert response.json() == {"id": country.id, "code": country.code, "name": "Dee"}

    async def test_unknown_country_is_404(self, client: httpx.AsyncClient) -> None:
        response = await client.get(f"{URL}/99999999")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"

    async def test_non_numeric_id_is_422(self, client: httpx.AsyncClient) -> None:
        assert (await client.get(f"{URL}/abc")).status_code == 422


class TestCreateCountry:
    async def test_platform_admin_creates_a_country(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        admin = await make_platform_admin(db)
        (code,) = await unused_country_codes(db)
        response = await client.post(
            URL, json={"code": code, "name": "  Queendom  "}, headers=auth_headers(settings, admin)
        )
        assert response.status_code == 201
        assert response.json()["code"] == code
        assert response.json()["name"] == "Queendom"

    @pytest.mark.parametrize("code", ["qe", "Q", "QEE", "Q1", ""])
    async def test_code_must_be_two_uppercase_letters(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, code: str
    ) -> None:
        admin = await make_platform_admin(db)
        response = await client.post(URL, json={"code": code, "name": "X"}, headers=auth_headers(settings, admin))
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "validation_error"

    async def test_duplicate_code_is_409(self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings) -> None:
        admin = await make_platform_admin(db)
        country = await make_country(db)
        response = await client.post(
            URL, json={"code": country.code, "name": "Again"}, headers=auth_headers(settings, admin)
        )
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "country_code_exists"

    async def test_without_a_token_is_401(self, client: httpx.AsyncClient) -> None:
        response = await client.post(URL, json={"code": "QG", "name": "Gee"})
        assert response.status_code == 401

    async def test_university_admin_is_403(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus = await make_campus(db)
        response = await client.post(
            URL, json={"code": "QH", "name": "H"}, headers=auth_headers(settings, campus.admin)
        )
        assert response.status_code == 403


class TestUpdateCountry:
    async def test_platform_admin_renames_a_country(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        admin = await make_platform_admin(db)
        country = await make_country(db)
        response = await client.patch(
            f"{URL}/{country.id}", json={"name": "Renamed"}, headers=auth_headers(settings, admin)
        )
        assert response.status_code == 200
        assert response.json() == {"id": country.id, "code": country.code, "name": "Renamed"}

    async def test_changing_to_a_taken_code_is_409(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        admin = await make_platform_admin(db)
        taken = await make_country(db)
        country = await make_country(db)
        response = await client.patch(
            f"{URL}/{country.id}", json={"code": taken.code}, headers=auth_headers(settings, admin)
        )
        assert response.status_code == 409

    async def test_null_name_is_422(self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings) -> None:
        admin = await make_platform_admin(db)
        country = await make_country(db)
        response = await client.patch(f"{URL}/{country.id}", json={"name": None}, headers=auth_headers(settings, admin))
        assert response.status_code == 422

    async def test_unknown_field_is_422(self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings) -> None:
        admin = await make_platform_admin(db)
        country = await make_country(db)
        response = await client.patch(f"{URL}/{country.id}", json={"flag": "x"}, headers=auth_headers(settings, admin))
        assert response.status_code == 422

    async def test_student_is_403(self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings) -> None:
        campus = await make_campus(db)
        response = await client.patch(
            f"{URL}/{campus.university.country_id}",
            json={"name": "Mine"},
            headers=auth_headers(settings, campus.student),
        )
        assert response.status_code == 403

    async def test_without_a_token_is_401(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        country = await make_country(db)
        assert (await client.patch(f"{URL}/{country.id}", json={"name": "x"})).status_code == 401


class TestDeleteCountry:
    async def test_platform_admin_deletes_an_unused_country(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        admin = await make_platform_admin(db)
        country = await make_country(db)
        response = await client.delete(f"{URL}/{country.id}", headers=auth_headers(settings, admin))
        assert response.status_code == 204
        assert (await client.get(f"{URL}/{country.id}")).status_code == 404

    async def test_country_with_universities_is_409(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        admin = await make_platform_admin(db)
        university = await make_university(db)
        response = await client.delete(f"{URL}/{university.country_id}", headers=auth_headers(settings, admin))
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "country_in_use"

    async def test_unknown_country_is_404(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        admin = await make_platform_admin(db)
        response = await client.delete(f"{URL}/99999999", headers=auth_headers(settings, admin))
        assert response.status_code == 404

    async def test_without_a_token_is_401(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        country = await make_country(db)
        assert (await client.delete(f"{URL}/{country.id}")).status_code == 401

    async def test_university_admin_is_403(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus = await make_campus(db)
        country = await make_country(db)
        response = await client.delete(f"{URL}/{country.id}", headers=auth_headers(settings, campus.admin))
        assert response.status_code == 403
