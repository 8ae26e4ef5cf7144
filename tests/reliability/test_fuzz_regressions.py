"""Regressions found by the schemathesis run: each request below was a 500 before the fix."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.factories import auth_headers, make_member, make_university
from twosigma.config import Settings
from twosigma.enums import UserRole

API = "/api/v1"

# Integers beyond PostgreSQL's int4 passed the schemas (plain `int`) and asyncpg refused them: now 422.
OUT_OF_RANGE: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", f"{API}/courses?department_id=-550730816740698", None),
    ("POST", f"{API}/courses", {"title": "T", "code": "T", "university_id": -6340191297, "primary_subject_id": 1}),
    ("PATCH", f"{API}/offerings/40277487910095", {"capacity": 3}),
    ("GET", f"{API}/offerings/59416310456601091809292914262016/enrollments", None),
    ("POST", f"{API}/courses/20353492097331408/modules", {"title": "M"}),
    ("PUT", f"{API}/offerings/50026044216536768/progress/content-items/29", {"progress_percent": 83}),
]


class TestValuesTheDatabaseCannotStore:
    @pytest.mark.parametrize(("method", "url", "body"), OUT_OF_RANGE, ids=[f"{m} {u}" for m, u, _ in OUT_OF_RANGE])
    async def test_an_integer_beyond_int4_is_a_422_in_the_error_shape(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        method: str,
        url: str,
        body: dict[str, Any] | None,
    ) -> None:
        admin = await make_member(db, await make_university(db), UserRole.PLATFORM_ADMIN)
        response = await client.request(method, url, json=body, headers=auth_headers(settings, admin))
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == "validation_error"

    async def test_the_openapi_document_gives_every_operation_the_error_shape_as_its_default(
        self, client: httpx.AsyncClient
    ) -> None:
        document = (await client.get("/openapi.json")).json()
        operations = [op for path in document["paths"].values() for op in path.values()]
        assert operations
        for operation in operations:
            assert operation["responses"]["default"]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ErrorResponse"
            }
        assert "HTTPValidationError" not in document["components"]["schemas"]


def _documented_properties(document: dict[str, Any], path: str, method: str, status: str) -> set[str]:
    schema = document["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]
    component = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    if "items" in component["properties"]:  # a page: the properties of its items
        ref = component["properties"]["items"]["items"]["$ref"]
        component = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return set(component["properties"])


class TestV1PromptsDocumentWhatTheySend:
    """/api/v1/prompts answers snake_case; its OpenAPI documented the camelCase of the Langfuse API."""

    async def test_create_get_and_list_answer_exactly_the_documented_fields(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        admin = auth_headers(settings, await make_member(db, await make_university(db), UserRole.PLATFORM_ADMIN))
        document = (await client.get("/openapi.json")).json()
        body = {"name": "fuzz/regression", "prompt": "Hi", "commit_message": "first", "labels": ["production"]}
        created = await client.post(f"{API}/prompts", json=body, headers=admin)
        assert created.status_code == 201, created.text
        fetched = await client.get(f"{API}/prompts/fuzz/regression", headers=admin)
        listed = await client.get(f"{API}/prompts", headers=admin)
        documented = _documented_properties(document, f"{API}/prompts", "post", "201")
        assert set(created.json()) <= documented
        assert {"commit_message", "created_at", "created_by"} <= documented
        assert set(fetched.json()) <= _documented_properties(document, f"{API}/prompts/{{name}}", "get", "200")
        item = listed.json()["items"][0]
        assert set(item) == _documented_properties(document, f"{API}/prompts", "get", "200")
