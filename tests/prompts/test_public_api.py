"""/api/public/v2/prompts over HTTP: Langfuse's shapes, status codes and folder-style names."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.prompts import EVERY_SCOPE, make_api_key
from twosigma.config import Settings

URL = "/api/public/v2/prompts"


@pytest.fixture
async def basic(db: AsyncSession, settings: Settings) -> dict[str, str]:
    return (await make_api_key(db, settings, scopes=EVERY_SCOPE))[1]


async def _create(client: httpx.AsyncClient, basic: dict[str, str], **body: Any) -> dict[str, Any]:
    response = await client.post(URL, json={"prompt": "Hello {{name}}", **body}, headers=basic)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


class TestCreate:
    async def test_text_prompt_comes_back_in_langfuses_shape(
        self, client: httpx.AsyncClient, basic: dict[str, str]
    ) -> None:
        body = await _create(
            client,
            basic,
            name="pub",
            labels=["production"],
            tags=["t"],
            config={"temperature": 0.2},
            commitMessage="first",
        )
        assert {k: body[k] for k in ("name", "version", "type", "prompt", "config", "tags", "commitMessage")} == {
            "name": "pub",
            "version": 1,
            "type": "text",
            "prompt": "Hello {{name}}",
            "config": {"temperature": 0.2},
            "tags": ["t"],
            "commitMessage": "first",
        }
        assert sorted(body["labels"]) == ["latest", "production"]
        assert body["createdBy"] == "API"
        assert {"createdAt", "updatedAt", "resolutionGraph"} <= body.keys()

    async def test_chat_prompt_keeps_messages_and_placeholders(
        self, client: httpx.AsyncClient, basic: dict[str, str]
    ) -> None:
        messages = [{"role": "system", "content": "Tutor {{subject}}"}, {"type": "placeholder", "name": "history"}]
        body = await _create(client, basic, name="pub-chat", type="chat", prompt=messages)
        assert (body["type"], body["prompt"]) == ("chat", messages)

    async def test_chat_type_with_text_content_is_a_validation_error(
        self, client: httpx.AsyncClient, basic: dict[str, str]
    ) -> None:
        response = await client.post(URL, json={"name": "x", "type": "chat", "prompt": "text"}, headers=basic)
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "validation_error"

    async def test_bad_reference_is_400_with_the_reason(self, client: httpx.AsyncClient, basic: dict[str, str]) -> None:
        body = {"name": "x", "prompt": "@@@langfusePrompt:name=ghost|version=1@@@"}
        response = await client.post(URL, json=body, headers=basic)
        assert response.status_code == 400
        assert response.json()["error"]["message"] == "Prompt dependency not found: ghost - version 1"

    async def test_changing_the_type_is_400(self, client: httpx.AsyncClient, basic: dict[str, str]) -> None:
        await _create(client, basic, name="fixed")
        body = {"name": "fixed", "type": "chat", "prompt": [{"role": "user", "content": "x"}]}
        assert (await client.post(URL, json=body, headers=basic)).status_code == 400


class TestGet:
    async def test_without_version_or_label_serves_production(
        self, client: httpx.AsyncClient, basic: dict[str, str]
    ) -> None:
        await _create(client, basic, name="g", prompt="one", labels=["production"])
        await _create(client, basic, name="g", prompt="two")
        assert (await client.get(f"{URL}/g", headers=basic)).json()["prompt"] == "one"
        assert (await client.get(f"{URL}/g", params={"version": 2}, headers=basic)).json()["prompt"] == "two"
        assert (await client.get(f"{URL}/g", params={"label": "latest"}, headers=basic)).json()["version"] == 2

    async def test_folder_names_work_url_encoded_or_not(self, client: httpx.AsyncClient, basic: dict[str, str]) -> None:
        await _create(client, basic, name="tutor/base", labels=["production"])
        assert (await client.get(f"{URL}/tutor%2Fbase", headers=basic)).json()["name"] == "tutor/base"
        assert (await client.get(f"{URL}/tutor/base", headers=basic)).status_code == 200
        patched = await client.patch(f"{URL}/tutor%2Fbase/versions/1", json={"newLabels": ["beta"]}, headers=basic)
        assert patched.status_code == 200
        assert "beta" in patched.json()["labels"]

    async def test_resolve_false_returns_the_raw_tags(self, client: httpx.AsyncClient, basic: dict[str, str]) -> None:
        await _create(client, basic, name="leaf", prompt="LEAF")
        tag = "@@@langfusePrompt:name=leaf|version=1@@@"
        await _create(client, basic, name="root", prompt=tag, labels=["production"])
        resolved = (await client.get(f"{URL}/root", headers=basic)).json()
        raw = (await client.get(f"{URL}/root", params={"resolve": "false"}, headers=basic)).json()
        assert (resolved["prompt"], raw["prompt"], raw["resolutionGraph"]) == ("LEAF", tag, None)
        assert resolved["resolutionGraph"]["root"]["name"] == "root"

    async def test_unknown_prompt_is_404(self, client: httpx.AsyncClient, basic: dict[str, str]) -> None:
        response = await client.get(f"{URL}/nothing", headers=basic)
        assert response.status_code == 404
        assert response.json()["error"]["message"] == "Prompt not found: 'nothing' with label 'production'"


class TestList:
    async def test_list_has_langfuses_data_and_meta(self, client: httpx.AsyncClient, basic: dict[str, str]) -> None:
        await _create(client, basic, name="list-a", tags=["x"], labels=["production"])
        await _create(client, basic, name="list-a", config={"v": 2})
        await _create(client, basic, name="list-b")
        body = (await client.get(URL, params={"name": "list-a"}, headers=basic)).json()
        assert body["meta"] == {"page": 1, "limit": 10, "totalItems": 1, "totalPages": 1}
        [item] = body["data"]
        assert {k: item[k] for k in ("name", "type", "versions", "labels", "tags", "lastConfig")} == {
            "name": "list-a",
            "type": "text",
            "versions": [1, 2],
            "labels": ["latest", "production"],
            "tags": ["x"],
            "lastConfig": {"v": 2},
        }
        assert "lastUpdatedAt" in item

    async def test_filters_by_label_and_tag(self, client: httpx.AsyncClient, basic: dict[str, str]) -> None:
        await _create(client, basic, name="f-1", tags=["keep"], labels=["staging"])
        await _create(client, basic, name="f-2", tags=["drop"])
        by_label = (await client.get(URL, params={"label": "staging"}, headers=basic)).json()
        by_tag = (await client.get(URL, params={"tag": "keep"}, headers=basic)).json()
        assert [d["name"] for d in by_label["data"]] == ["f-1"]
        assert [d["name"] for d in by_tag["data"]] == ["f-1"]
        assert by_label["data"][0]["versions"] == [1]

    async def test_pages(self, client: httpx.AsyncClient, basic: dict[str, str]) -> None:
        for i in range(3):
            await _create(client, basic, name=f"page-{i}", tags=["paged"])
        body = (await client.get(URL, params={"tag": "paged", "limit": 2, "page": 2}, headers=basic)).json()
        assert [d["name"] for d in body["data"]] == ["page-2"]
        assert body["meta"] == {"page": 2, "limit": 2, "totalItems": 3, "totalPages": 2}

    async def test_updated_at_window(self, client: httpx.AsyncClient, basic: dict[str, str]) -> None:
        await _create(client, basic, name="window")
        params = {"name": "window", "fromUpdatedAt": "2100-01-01T00:00:00Z"}
        assert (await client.get(URL, params=params, headers=basic)).json()["data"] == []
        params = {"name": "window", "toUpdatedAt": "2100-01-01T00:00:00Z"}
        assert len((await client.get(URL, params=params, headers=basic)).json()["data"]) == 1

    async def test_limit_over_100_is_a_validation_error(self, client: httpx.AsyncClient, basic: dict[str, str]) -> None:
        assert (await client.get(URL, params={"limit": 101}, headers=basic)).status_code == 422


class TestUpdateAndDelete:
    async def test_patch_moves_labels(self, client: httpx.AsyncClient, basic: dict[str, str]) -> None:
        await _create(client, basic, name="m", labels=["production"])
        await _create(client, basic, name="m")
        response = await client.patch(f"{URL}/m/versions/2", json={"newLabels": ["production"]}, headers=basic)
        assert response.status_code == 200
        assert (await client.get(f"{URL}/m", headers=basic)).json()["version"] == 2

    async def test_patch_with_latest_is_400(self, client: httpx.AsyncClient, basic: dict[str, str]) -> None:
        await _create(client, basic, name="m")
        response = await client.patch(f"{URL}/m/versions/1", json={"newLabels": ["latest"]}, headers=basic)
        assert response.status_code == 400

    async def test_patch_unknown_version_is_404(self, client: httpx.AsyncClient, basic: dict[str, str]) -> None:
        await _create(client, basic, name="m")
        assert (await client.patch(f"{URL}/m/versions/5", json={"newLabels": []}, headers=basic)).status_code == 404

    async def test_delete_one_version_then_the_name(self, client: httpx.AsyncClient, basic: dict[str, str]) -> None:
        await _create(client, basic, name="d")
        await _create(client, basic, name="d", labels=["staging"])
        assert (await client.delete(f"{URL}/d", params={"label": "staging"}, headers=basic)).status_code == 204
        assert (await client.get(f"{URL}/d", params={"label": "latest"}, headers=basic)).json()["version"] == 1
        assert (await client.delete(f"{URL}/d", headers=basic)).status_code == 204
        assert (await client.get(f"{URL}/d", params={"version": 1}, headers=basic)).status_code == 404

    async def test_deleting_a_referenced_version_is_409(self, client: httpx.AsyncClient, basic: dict[str, str]) -> None:
        await _create(client, basic, name="base", prompt="B")
        await _create(client, basic, name="user", prompt="@@@langfusePrompt:name=base|version=1@@@")
        response = await client.delete(f"{URL}/base", params={"version": 1}, headers=basic)
        assert response.status_code == 409
        assert response.json()["error"]["details"] == {"dependents": ["user v1 depends on base v1"]}
