from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.factories import auth_headers, make_country, make_university
from tests.fixtures.tenancy import make_campus, make_platform_admin
from twosigma.config import Settings

URL = "/api/v1/universities"


def _body(country_id: int, **overrides: Any) -> dict[str, Any]:
    return {"name": "Institute of Tests", "short_code": "IOT", "country_id": country_id, **overrides}


class TestListUniversities:
    async def test_anyone_sees_active_universities_with_their_country(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        country = await make_country(db)
        university = await make_university(db, country=country, name="Listable Polytechnic")
        body = (await client.get(URL, params={"q": "listable poly"})).json()
        assert [u["id"] for u in body["items"]] == [university.id]
        assert body["items"][0]["country"] == {"id": country.id, "code": country.code, "name": country.name}

    async def test_inactive_universities_are_hidden_from_the_public(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        await make_university(db, name="Dormant College", is_active=False)
        body = (await client.get(URL, params={"q": "Dormant College", "is_active": False})).json()
        assert body["items"] == []

    async def test_inactive_universities_are_hidden_from_their_own_admin_in_the_list(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus = await make_campus(db, name="Sleepy Campus", is_active=False)
        response = await client.get(URL, params={"q": "Sleepy Campus"}, headers=auth_headers(settings, campus.admin))
        assert response.json()["total"] == 0

    async def test_platform_admin_sees_inactive_universities(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        admin = await make_platform_admin(db)
        university = await make_university(db, name="Dormant Academy", is_active=False)
        response = await client.get(
            URL, params={"q": "Dormant Academy", "is_active": False}, headers=auth_headers(settings, admin)
        )
        assert [u["id"] for u in response.json()["items"]] == [university.id]

    async def test_filter_by_country(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        country = await make_country(db)
        university = await make_university(db, country=country)
        await make_university(db)
        body = (await client.get(URL, params={"country_id": country.id})).json()
        assert [u["id"] for u in body["items"]] == [university.id]

    async def test_bad_country_filter_is_422(self, client: httpx.AsyncClient) -> None:
        response = await client.get(URL, params={"country_id": "x"})
        assert response.status_code == 422

    async def test_invalid_token_is_401_even_on_a_public_list(self, client: httpx.AsyncClient) -> None:
        response = await client.get(URL, headers={"Authorization": "Bearer nonsense"})
        assert response.status_code == 401


class TestGetUniversity:
    async def test_anyone_reads_an_active_university(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        university = await make_university(db, website_url="https://example.edu")
        body = (await client.get(f"{URL}/{university.id}")).json()
        assert body["short_code"] == university.short_code
        assert body["website_url"] == "https://example.edu"
        assert body["time_zone"] == "UTC"
        assert body["is_active"] is True

    async def test_inactive_university_is_404_for_the_public(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        university = await make_university(db, is_active=False)
        assert (await client.get(f"{URL}/{university.id}")).status_code == 404

    async def test_inactive_university_is_404_for_its_students(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus = await make_campus(db, is_active=False)
        response = await client.get(f"{URL}/{campus.university.id}", headers=auth_headers(settings, campus.student))
        assert response.status_code == 404

    async def test_inactive_university_is_visible_to_its_admin(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus = await make_campus(db, is_active=False)
        response = await client.get(f"{URL}/{campus.university.id}", headers=auth_headers(settings, campus.admin))
        assert response.status_code == 200

    async def test_out_of_range_id_is_422(self, client: httpx.AsyncClient) -> None:
        assert (await client.get(f"{URL}/99999999999")).status_code == 422


class TestCreateUniversity:
    async def test_platform_admin_creates_a_university(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        admin = await make_platform_admin(db)
        country = await make_country(db)
        payload = _body(country.id, time_zone="Europe/Paris", website_url="https://iot.example.edu")
        response = await client.post(URL, json=payload, headers=auth_headers(settings, admin))
        assert response.status_code == 201
        body = response.json()
        assert body["country"]["id"] == country.id
        assert (body["time_zone"], body["is_active"]) == ("Europe/Paris", True)

    @pytest.mark.parametrize(
        "overrides",
        [
            {"time_zone": "Mars/Olympus"},
            {"time_zone": "/etc/passwd"},
            {"website_url": "ftp://example.edu"},
            {"website_url": "not a url"},
            {"website_url": "https://"},
            {"name": ""},
            {"short_code": "X" * 21},
        ],
    )
    async def test_invalid_fields_are_422(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, overrides: dict[str, Any]
    ) -> None:
        admin = await make_platform_admin(db)
        country = await make_country(db)
        response = await client.post(URL, json=_body(country.id, **overrides), headers=auth_headers(settings, admin))
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "validation_error"

    async def test_unknown_country_is_422(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        admin = await make_platform_admin(db)
        response = await client.post(URL, json=_body(99999999), headers=auth_headers(settings, admin))
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "unknown_country"

    async def test_short_code_taken_in_the_country_is_409(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        admin = await make_platform_admin(db)
        existing = await make_university(db, short_code="DUP")
        payload = _body(existing.country_id, short_code="dup")
        response = await client.post(URL, json=payload, headers=auth_headers(settings, admin))
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "short_code_exists"

    async def test_same_short_code_in_another_country_is_fine(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        admin = await make_platform_admin(db)
        await make_university(db, short_code="TWIN")
        country = await make_country(db)
        response = await client.post(
            URL, json=_body(country.id, short_code="TWIN"), headers=auth_headers(settings, admin)
        )
        assert response.status_code == 201

    async def test_university_admin_is_403(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus = await make_campus(db)
        response = await client.post(
            URL, json=_body(campus.university.country_id), headers=auth_headers(settings, campus.admin)
        )
        assert response.status_code == 403

    async def test_without_a_token_is_401(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        country = await make_country(db)
        assert (await client.post(URL, json=_body(country.id))).status_code == 401


class TestUpdateUniversity:
    async def test_university_admin_edits_their_university(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus = await make_campus(db)
        response = await client.patch(
            f"{URL}/{campus.university.id}",
            json={"name": "Renamed University", "time_zone": "America/New_York", "website_url": None},
            headers=auth_headers(settings, campus.admin),
        )
        assert response.status_code == 200
        body = response.json()
        assert (body["name"], body["time_zone"], body["website_url"]) == (
            "Renamed University",
            "America/New_York",
            None,
        )

    async def test_university_admin_may_not_deactivate_it(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus = await make_campus(db)
        response = await client.patch(
            f"{URL}/{campus.university.id}", json={"is_active": False}, headers=auth_headers(settings, campus.admin)
        )
        assert response.status_code == 403

    async def test_university_admin_may_resend_the_unchanged_status(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus = await make_campus(db)
        response = await client.patch(
            f"{URL}/{campus.university.id}", json={"is_active": True}, headers=auth_headers(settings, campus.admin)
        )
        assert response.status_code == 200

    async def test_platform_admin_deactivates_a_university(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        admin = await make_platform_admin(db)
        university = await make_university(db)
        response = await client.patch(
            f"{URL}/{university.id}", json={"is_active": False}, headers=auth_headers(settings, admin)
        )
        assert response.json()["is_active"] is False
        assert (await client.get(f"{URL}/{university.id}")).status_code == 404

    async def test_moving_to_a_country_where_the_short_code_is_taken_is_409(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        admin = await make_platform_admin(db)
        other = await make_university(db, short_code="SAME")
        university = await make_university(db, short_code="SAME")
        response = await client.patch(
            f"{URL}/{university.id}", json={"country_id": other.country_id}, headers=auth_headers(settings, admin)
        )
        assert response.status_code == 409

    async def test_another_universitys_admin_is_403(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus, other = await make_campus(db), await make_campus(db)
        response = await client.patch(
            f"{URL}/{campus.university.id}", json={"name": "Mine now"}, headers=auth_headers(settings, other.admin)
        )
        assert response.status_code == 403

    async def test_department_admin_is_403(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus = await make_campus(db)
        response = await client.patch(
            f"{URL}/{campus.university.id}", json={"name": "X"}, headers=auth_headers(settings, campus.department_admin)
        )
        assert response.status_code == 403

    async def test_null_name_is_422(self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings) -> None:
        campus = await make_campus(db)
        response = await client.patch(
            f"{URL}/{campus.university.id}", json={"name": None}, headers=auth_headers(settings, campus.admin)
        )
        assert response.status_code == 422

    async def test_without_a_token_is_401(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        university = await make_university(db)
        assert (await client.patch(f"{URL}/{university.id}", json={"name": "X"})).status_code == 401


class TestDeleteUniversity:
    async def test_platform_admin_deletes_a_university(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        admin = await make_platform_admin(db)
        campus = await make_campus(db)
        response = await client.delete(f"{URL}/{campus.university.id}", headers=auth_headers(settings, admin))
        assert response.status_code == 204
        assert (await client.get(f"{URL}/{campus.university.id}")).status_code == 404
        assert (await client.get(f"/api/v1/departments/{campus.department.id}")).status_code == 404

    async def test_university_admin_is_403(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus = await make_campus(db)
        response = await client.delete(f"{URL}/{campus.university.id}", headers=auth_headers(settings, campus.admin))
        assert response.status_code == 403

    async def test_without_a_token_is_401(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        university = await make_university(db)
        assert (await client.delete(f"{URL}/{university.id}")).status_code == 401

    async def test_non_numeric_id_is_422(self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings) -> None:
        admin = await make_platform_admin(db)
        assert (await client.delete(f"{URL}/abc", headers=auth_headers(settings, admin))).status_code == 422
