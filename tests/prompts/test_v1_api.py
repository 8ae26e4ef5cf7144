"""/api/v1/prompts: staff read, platform admins write; label removal, history, diff and strict compile."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.factories import auth_headers, make_member, make_university
from tests.fixtures.prompts import platform_admin
from twosigma.config import Settings
from twosigma.enums import UserRole

URL = "/api/v1/prompts"


@pytest.fixture
async def admin(db: AsyncSession, settings: Settings) -> dict[str, str]:
    return await platform_admin(db, settings)


async def _member(db: AsyncSession, settings: Settings, role: UserRole) -> dict[str, str]:
    return auth_headers(settings, await make_member(db, await make_university(db), role))


async def _create(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = await client.post(URL, json={"prompt": "Hi {{name}}", **body}, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


class TestWriteAccess:
    async def test_platform_admin_creates_and_gets_snake_case(
        self, client: httpx.AsyncClient, admin: dict[str, str]
    ) -> None:
        body = await _create(client, admin, name="v1p", commit_message="first")
        assert body["commit_message"] == "first"
        assert {"created_at", "resolution_graph"} <= body.keys()

    async def test_without_a_token_is_401(self, client: httpx.AsyncClient) -> None:
        assert (await client.post(URL, json={"name": "x", "prompt": "y"})).status_code == 401

    @pytest.mark.parametrize("role", [UserRole.UNIVERSITY_ADMIN, UserRole.INSTRUCTOR, UserRole.STUDENT])
    async def test_other_roles_may_not_write(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, role: UserRole
    ) -> None:
        response = await client.post(URL, json={"name": "x", "prompt": "y"}, headers=await _member(db, settings, role))
        assert response.status_code == 403

    async def test_invalid_body_is_422(self, client: httpx.AsyncClient, admin: dict[str, str]) -> None:
        response = await client.post(URL, json={"name": "a|b", "prompt": "y"}, headers=admin)
        assert (response.status_code, response.json()["error"]["code"]) == (422, "validation_error")


class TestReadAccess:
    @pytest.mark.parametrize("role", [UserRole.TA, UserRole.INSTRUCTOR, UserRole.DEPARTMENT_ADMIN])
    async def test_staff_of_any_university_read(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, admin: dict[str, str], role: UserRole
    ) -> None:
        await _create(client, admin, name="readable", labels=["production"])
        headers = await _member(db, settings, role)
        assert (await client.get(f"{URL}/readable", headers=headers)).status_code == 200
        assert (await client.get(URL, headers=headers)).status_code == 200

    async def test_students_may_not_read(self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings) -> None:
        headers = await _member(db, settings, UserRole.STUDENT)
        assert (await client.get(URL, headers=headers)).status_code == 403
        assert (await client.get(f"{URL}/anything", headers=headers)).status_code == 403

    async def test_reading_without_a_token_is_401(self, client: httpx.AsyncClient) -> None:
        assert (await client.get(URL)).status_code == 401

    async def test_list_uses_the_v1_page_shape(self, client: httpx.AsyncClient, admin: dict[str, str]) -> None:
        await _create(client, admin, name="paged-v1", tags=["v1list"])
        body = (await client.get(URL, params={"tag": "v1list"}, headers=admin)).json()
        assert (body["total"], body["pages"], body["items"][0]["name"]) == (1, 1, "paged-v1")
        assert body["items"][0]["last_config"] == {}

    async def test_get_unknown_prompt_is_404(self, client: httpx.AsyncClient, admin: dict[str, str]) -> None:
        assert (await client.get(f"{URL}/missing", headers=admin)).status_code == 404

    async def test_version_and_label_together_is_400(self, client: httpx.AsyncClient, admin: dict[str, str]) -> None:
        await _create(client, admin, name="both")
        response = await client.get(f"{URL}/both", params={"version": 1, "label": "latest"}, headers=admin)
        assert response.status_code == 400


class TestLabels:
    async def test_patch_then_remove_a_label(self, client: httpx.AsyncClient, admin: dict[str, str]) -> None:
        await _create(client, admin, name="lbl")
        patched = await client.patch(f"{URL}/lbl/versions/1", json={"new_labels": ["staging"]}, headers=admin)
        assert sorted(patched.json()["labels"]) == ["latest", "staging"]
        assert (await client.delete(f"{URL}/lbl/labels/staging", headers=admin)).status_code == 204
        assert (await client.get(f"{URL}/lbl", params={"label": "staging"}, headers=admin)).status_code == 404

    async def test_removing_latest_is_400(self, client: httpx.AsyncClient, admin: dict[str, str]) -> None:
        await _create(client, admin, name="lbl")
        response = await client.delete(f"{URL}/lbl/labels/latest", headers=admin)
        assert (response.status_code, response.json()["error"]["code"]) == (400, "reserved_label")

    async def test_removing_a_label_others_depend_on_is_409(
        self, client: httpx.AsyncClient, admin: dict[str, str]
    ) -> None:
        await _create(client, admin, name="dep/base", labels=["staging"])
        await _create(client, admin, name="dep/user", prompt="@@@langfusePrompt:name=dep/base|label=staging@@@")
        response = await client.delete(f"{URL}/dep%2Fbase/labels/staging", headers=admin)
        assert response.status_code == 409
        assert response.json()["error"]["details"] == {"dependents": ["dep/user v1 depends on dep/base staging"]}

    async def test_removing_a_label_needs_an_admin(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, admin: dict[str, str]
    ) -> None:
        await _create(client, admin, name="lbl", labels=["staging"])
        headers = await _member(db, settings, UserRole.TA)
        assert (await client.delete(f"{URL}/lbl/labels/staging", headers=headers)).status_code == 403

    async def test_history_lists_every_move_newest_first(
        self, client: httpx.AsyncClient, admin: dict[str, str]
    ) -> None:
        await _create(client, admin, name="hist", labels=["production"])
        await _create(client, admin, name="hist")
        await client.patch(f"{URL}/hist/versions/2", json={"new_labels": ["production"]}, headers=admin)
        await client.delete(f"{URL}/hist/labels/production", headers=admin)
        body = (await client.get(f"{URL}/hist/labels/history", headers=admin)).json()
        moves = [(e["label"], e["from_version"], e["to_version"]) for e in body["items"]]
        assert moves == [
            ("production", 2, None),
            ("production", 1, 2),
            ("latest", 1, 2),
            ("latest", None, 1),
            ("production", None, 1),
        ]
        assert all(e["actor"].startswith("user:") for e in body["items"])
        only = (await client.get(f"{URL}/hist/labels/history", params={"label": "latest"}, headers=admin)).json()
        assert only["total"] == 2

    async def test_history_of_an_unknown_prompt_is_404(self, client: httpx.AsyncClient, admin: dict[str, str]) -> None:
        assert (await client.get(f"{URL}/nope/labels/history", headers=admin)).status_code == 404

    async def test_tags_can_be_replaced_on_every_version(
        self, client: httpx.AsyncClient, admin: dict[str, str]
    ) -> None:
        await _create(client, admin, name="tagged", tags=["old"])
        await _create(client, admin, name="tagged")
        assert (await client.put(f"{URL}/tagged/tags", json={"tags": ["new"]}, headers=admin)).status_code == 200
        first = (await client.get(f"{URL}/tagged", params={"version": 1}, headers=admin)).json()
        assert first["tags"] == ["new"]


class TestDiff:
    async def test_unified_diff_between_two_versions(self, client: httpx.AsyncClient, admin: dict[str, str]) -> None:
        await _create(client, admin, name="diffed", prompt="line one\nline two\n")
        await _create(client, admin, name="diffed", prompt="line one\nline 2\n")
        body = (await client.get(f"{URL}/diffed/diff", params={"from": 1, "to": 2}, headers=admin)).json()
        assert body["diff"].splitlines() == [
            "--- diffed@1",
            "+++ diffed@2",
            "@@ -1,2 +1,2 @@",
            " line one",
            "-line two",
            "+line 2",
        ]

    async def test_diff_needs_both_versions(self, client: httpx.AsyncClient, admin: dict[str, str]) -> None:
        await _create(client, admin, name="diffed")
        assert (await client.get(f"{URL}/diffed/diff", params={"from": 1}, headers=admin)).status_code == 422
        assert (await client.get(f"{URL}/diffed/diff", params={"from": 1, "to": 9}, headers=admin)).status_code == 404


class TestCompile:
    async def test_lenient_compile_leaves_unknown_variables(
        self, client: httpx.AsyncClient, admin: dict[str, str]
    ) -> None:
        await _create(client, admin, name="comp", prompt="{{a}} and {{b}}", labels=["production"])
        body = (await client.post(f"{URL}/comp/compile", json={"variables": {"a": 1}}, headers=admin)).json()
        assert (body["prompt"], body["variables"]) == ("1 and {{b}}", ["a", "b"])

    async def test_strict_compile_lists_missing_and_unused(
        self, client: httpx.AsyncClient, admin: dict[str, str]
    ) -> None:
        await _create(client, admin, name="comp", prompt="{{a}} and {{b}}", labels=["production"])
        body = {"variables": {"a": 1, "c": 3}, "strict": True}
        response = await client.post(f"{URL}/comp/compile", json=body, headers=admin)
        assert response.status_code == 422
        assert response.json()["error"]["details"] == {"missing": ["b"], "unused": ["c"]}

    async def test_strict_compile_of_a_chat_prompt_with_placeholders(
        self, client: httpx.AsyncClient, admin: dict[str, str]
    ) -> None:
        messages = [{"role": "system", "content": "Teach {{topic}}"}, {"type": "placeholder", "name": "history"}]
        await _create(client, admin, name="comp-chat", type="chat", prompt=messages)
        body = {
            "variables": {"topic": "sets"},
            "placeholders": {"history": [{"role": "user", "content": "hello"}]},
            "strict": True,
            "label": "latest",
        }
        response = await client.post(f"{URL}/comp-chat/compile", json=body, headers=admin)
        assert response.status_code == 200, response.text
        assert response.json()["prompt"] == [
            {"role": "system", "content": "Teach sets"},
            {"role": "user", "content": "hello"},
        ]

    async def test_students_may_not_compile(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        headers = await _member(db, settings, UserRole.STUDENT)
        assert (await client.post(f"{URL}/x/compile", json={}, headers=headers)).status_code == 403


class TestDelete:
    async def test_delete_a_version_and_the_name(self, client: httpx.AsyncClient, admin: dict[str, str]) -> None:
        await _create(client, admin, name="gone")
        await _create(client, admin, name="gone")
        assert (await client.delete(f"{URL}/gone", params={"version": 2}, headers=admin)).status_code == 204
        assert (await client.delete(f"{URL}/gone", headers=admin)).status_code == 204
        assert (await client.get(f"{URL}/gone", params={"version": 1}, headers=admin)).status_code == 404
