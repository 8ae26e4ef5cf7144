from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.taxonomy import make_content_type, make_subject
from twosigma.content.models import ContentItem
from twosigma.kit.errors import Invalid, NotFound
from twosigma.taxonomy.models import ContentType, Subject
from twosigma.taxonomy.service import get_active_content_type

Headers = dict[str, str]
ContentItemOf = Callable[[ContentType, Subject], Awaitable[ContentItem]]


async def _listed_ids(client: httpx.AsyncClient, headers: Headers | None = None, **params: object) -> set[int]:
    response = await client.get("/api/v1/content-types", params={"limit": 100, **params}, headers=headers)
    assert response.status_code == 200
    return {item["id"] for item in response.json()["items"]}


class TestListContentTypes:
    async def test_the_default_list_offers_active_types_only(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        active = await make_content_type(db)
        retired = await make_content_type(db, is_active=False)
        ids = await _listed_ids(client)
        assert active.id in ids
        assert retired.id not in ids

    async def test_platform_admin_may_include_inactive_types(
        self, client: httpx.AsyncClient, db: AsyncSession, admin_headers: Headers
    ) -> None:
        retired = await make_content_type(db, is_active=False)
        assert retired.id in await _listed_ids(client, admin_headers, include_inactive="true")

    async def test_include_inactive_is_ignored_for_anonymous_callers(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        retired = await make_content_type(db, is_active=False)
        assert retired.id not in await _listed_ids(client, include_inactive="true")

    async def test_include_inactive_is_ignored_for_a_university_admin(
        self, client: httpx.AsyncClient, db: AsyncSession, university_admin_headers: Headers
    ) -> None:
        retired = await make_content_type(db, is_active=False)
        assert retired.id not in await _listed_ids(client, university_admin_headers, include_inactive="true")

    async def test_include_inactive_with_an_invalid_token_is_401(self, client: httpx.AsyncClient) -> None:
        response = await client.get(
            "/api/v1/content-types",
            params={"include_inactive": "true"},
            headers={"Authorization": "Bearer nonsense"},
        )
        assert response.status_code == 401

    async def test_a_malformed_flag_is_422(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/content-types", params={"include_inactive": "perhaps"})
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "validation_error"


class TestGetContentType:
    async def test_anyone_reads_a_content_type_even_an_inactive_one(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        retired = await make_content_type(db, name="slides", label="Slides", description="Old", is_active=False)
        response = await client.get(f"/api/v1/content-types/{retired.id}")
        assert response.status_code == 200
        assert response.json() == {
            "id": retired.id,
            "name": "slides",
            "label": "Slides",
            "description": "Old",
            "is_active": False,
            "gradable": False,
        }

    async def test_unknown_content_type_is_404(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/content-types/999999")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "content_type_not_found"

    async def test_non_numeric_id_is_422(self, client: httpx.AsyncClient) -> None:
        assert (await client.get("/api/v1/content-types/abc")).status_code == 422


class TestCreateContentType:
    async def test_platform_admin_creates_an_active_content_type(
        self, client: httpx.AsyncClient, admin_headers: Headers
    ) -> None:
        body = {"name": "video-lecture_2", "label": "Video lecture"}
        response = await client.post("/api/v1/content-types", json=body, headers=admin_headers)
        assert response.status_code == 201
        assert response.json()["is_active"] is True
        assert response.json()["description"] is None

    @pytest.mark.parametrize(
        "body",
        [
            {"name": "Video", "label": "Video"},
            {"name": "video lecture", "label": "Video"},
            {"name": "x" * 51, "label": "Video"},
            {"name": "video"},
            {"name": "video", "label": ""},
            {"name": "video", "label": "Video", "is_active": "sometimes"},
        ],
    )
    async def test_invalid_body_is_422(
        self, client: httpx.AsyncClient, admin_headers: Headers, body: dict[str, object]
    ) -> None:
        response = await client.post("/api/v1/content-types", json=body, headers=admin_headers)
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "validation_error"

    async def test_duplicate_name_is_409(
        self, client: httpx.AsyncClient, db: AsyncSession, admin_headers: Headers
    ) -> None:
        await make_content_type(db, name="quiz")
        body = {"name": "quiz", "label": "Another quiz"}
        response = await client.post("/api/v1/content-types", json=body, headers=admin_headers)
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "content_type_exists"

    async def test_anonymous_caller_gets_401(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/api/v1/content-types", json={"name": "quiz", "label": "Quiz"})
        assert response.status_code == 401

    async def test_university_admin_gets_403(
        self, client: httpx.AsyncClient, university_admin_headers: Headers
    ) -> None:
        body = {"name": "quiz", "label": "Quiz"}
        response = await client.post("/api/v1/content-types", json=body, headers=university_admin_headers)
        assert response.status_code == 403


class TestUpdateContentType:
    async def test_platform_admin_deactivates_a_content_type(
        self, client: httpx.AsyncClient, db: AsyncSession, admin_headers: Headers
    ) -> None:
        content_type = await make_content_type(db)
        url = f"/api/v1/content-types/{content_type.id}"
        response = await client.patch(url, json={"is_active": False}, headers=admin_headers)
        assert response.status_code == 200
        assert response.json()["is_active"] is False
        assert content_type.id not in await _listed_ids(client)

    async def test_description_can_be_cleared_with_null(
        self, client: httpx.AsyncClient, db: AsyncSession, admin_headers: Headers
    ) -> None:
        content_type = await make_content_type(db, description="Something")
        url = f"/api/v1/content-types/{content_type.id}"
        response = await client.patch(url, json={"description": None, "label": "New"}, headers=admin_headers)
        assert response.status_code == 200
        assert (response.json()["description"], response.json()["label"]) == (None, "New")

    async def test_renaming_to_a_taken_name_is_409(
        self, client: httpx.AsyncClient, db: AsyncSession, admin_headers: Headers
    ) -> None:
        await make_content_type(db, name="reading")
        content_type = await make_content_type(db)
        url = f"/api/v1/content-types/{content_type.id}"
        response = await client.patch(url, json={"name": "reading"}, headers=admin_headers)
        assert response.status_code == 409

    @pytest.mark.parametrize("body", [{"label": None}, {"is_active": None}, {"name": "Bad Name"}, {"id": 3}])
    async def test_invalid_body_is_422(
        self, client: httpx.AsyncClient, db: AsyncSession, admin_headers: Headers, body: dict[str, object]
    ) -> None:
        content_type = await make_content_type(db)
        url = f"/api/v1/content-types/{content_type.id}"
        response = await client.patch(url, json=body, headers=admin_headers)
        assert response.status_code == 422

    async def test_anonymous_caller_gets_401(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        content_type = await make_content_type(db)
        response = await client.patch(f"/api/v1/content-types/{content_type.id}", json={"label": "X"})
        assert response.status_code == 401

    async def test_university_admin_gets_403(
        self, client: httpx.AsyncClient, db: AsyncSession, university_admin_headers: Headers
    ) -> None:
        content_type = await make_content_type(db)
        url = f"/api/v1/content-types/{content_type.id}"
        response = await client.patch(url, json={"label": "X"}, headers=university_admin_headers)
        assert response.status_code == 403


class TestDeleteContentType:
    async def test_platform_admin_deletes_an_unused_content_type(
        self, client: httpx.AsyncClient, db: AsyncSession, admin_headers: Headers
    ) -> None:
        content_type = await make_content_type(db)
        response = await client.delete(f"/api/v1/content-types/{content_type.id}", headers=admin_headers)
        assert response.status_code == 204
        count = await db.scalar(select(func.count()).select_from(ContentType).where(ContentType.id == content_type.id))
        assert count == 0

    async def test_a_content_type_used_by_content_is_409(
        self, client: httpx.AsyncClient, db: AsyncSession, admin_headers: Headers, content_item_of: ContentItemOf
    ) -> None:
        content_type = await make_content_type(db)
        await content_item_of(content_type, await make_subject(db))
        response = await client.delete(f"/api/v1/content-types/{content_type.id}", headers=admin_headers)
        assert response.status_code == 409
        error = response.json()["error"]
        assert (error["code"], error["details"]) == ("content_type_in_use", {"content_item_count": 1})
        assert "deactivate" in error["message"]

    async def test_unknown_content_type_is_404_for_an_admin(
        self, client: httpx.AsyncClient, admin_headers: Headers
    ) -> None:
        assert (await client.delete("/api/v1/content-types/999999", headers=admin_headers)).status_code == 404

    async def test_anonymous_caller_gets_401(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        content_type = await make_content_type(db)
        assert (await client.delete(f"/api/v1/content-types/{content_type.id}")).status_code == 401

    async def test_university_admin_gets_403(
        self, client: httpx.AsyncClient, db: AsyncSession, university_admin_headers: Headers
    ) -> None:
        content_type = await make_content_type(db)
        url = f"/api/v1/content-types/{content_type.id}"
        assert (await client.delete(url, headers=university_admin_headers)).status_code == 403


class TestGetActiveContentType:
    async def test_an_active_type_is_returned(self, db: AsyncSession) -> None:
        content_type = await make_content_type(db)
        assert (await get_active_content_type(db, content_type.id)).id == content_type.id

    async def test_an_inactive_type_is_refused_with_422(self, db: AsyncSession) -> None:
        content_type = await make_content_type(db, is_active=False)
        with pytest.raises(Invalid) as caught:
            await get_active_content_type(db, content_type.id)
        assert caught.value.error_code == "content_type_inactive"

    async def test_a_missing_type_is_404(self, db: AsyncSession) -> None:
        with pytest.raises(NotFound):
            await get_active_content_type(db, 999999)
