"""Boolean settings (`tutor.open_chat`): listed in the schema, validated as true/false, read from the environment."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.config import Settings
from twosigma.system_settings.effective import get_effective_settings

Headers = dict[str, str]
BASE = "/api/v1/admin/settings"
KEY = "tutor.open_chat"


class TestOpenChatSetting:
    async def test_the_schema_lists_it_as_a_bool_defaulting_to_false(
        self, client: httpx.AsyncClient, admin_headers: Headers
    ) -> None:
        entries = {e["key"]: e for e in (await client.get(f"{BASE}/schema", headers=admin_headers)).json()["items"]}
        entry = entries[KEY]
        assert (entry["type"], entry["default"], entry["secret"]) == ("bool", False, False)
        assert entry["env_vars"] == ["TWOSIGMA_TUTOR_OPEN_CHAT"]
        assert "enrolment" in entry["description"]

    @pytest.mark.parametrize(("given", "stored"), [(True, True), (False, False), ("yes", True), ("OFF", False)])
    async def test_true_false_and_their_spellings_are_stored_as_booleans(
        self, client: httpx.AsyncClient, admin_headers: Headers, given: object, stored: bool
    ) -> None:
        response = await client.put(f"{BASE}/{KEY}", json={"value": given}, headers=admin_headers)
        assert response.status_code == 200, response.text
        assert response.json()["value"] is stored

    @pytest.mark.parametrize("given", [1, 0, "maybe", "", None, [True]])
    async def test_anything_else_is_422(self, client: httpx.AsyncClient, admin_headers: Headers, given: object) -> None:
        response = await client.put(f"{BASE}/{KEY}", json={"value": given}, headers=admin_headers)
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == "validation_error"

    async def test_the_effective_value_comes_from_the_environment_unless_stored(
        self, client: httpx.AsyncClient, admin_headers: Headers, db: AsyncSession, settings: Settings
    ) -> None:
        assert (await get_effective_settings(db, settings, {})).tutor_open_chat is False
        environ = {"TWOSIGMA_TUTOR_OPEN_CHAT": "true"}
        assert (await get_effective_settings(db, settings, environ)).tutor_open_chat is True
        await client.put(f"{BASE}/{KEY}", json={"value": False}, headers=admin_headers)
        assert (await get_effective_settings(db, settings, environ)).tutor_open_chat is False
