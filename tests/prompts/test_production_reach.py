"""A write that moves a label which a production prompt reads (directly or through other prompts) changes what
`production` serves, so it needs the right to move `production` itself: `prompts:deploy` for a key, the platform
administrator's role for a signed-in user.

Raw HTTP on /api/public/v2/prompts, as any client (or attacker) would send it; the SDK's view is in
tests/prompts/test_langfuse_sdk.py.
"""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from tests.fixtures.prompts import ADMIN, EDITOR, make_api_key, make_prompt
from tests.fixtures.tenancy import count_statements
from twosigma.api_keys.scopes import Scope
from twosigma.config import Settings
from twosigma.kit.errors import Forbidden
from twosigma.prompts.services import changes as service

URL = "/api/public/v2/prompts"
ROOT, PART, MID, LEAF = "rv/root", "rv/part", "rv/mid", "rv/leaf"

WRITE = (Scope.PROMPTS_WRITE,)
DEPLOY = (Scope.PROMPTS_WRITE, Scope.PROMPTS_DEPLOY)


def ref(name: str, *, version: int | None = None, label: str | None = None) -> str:
    selector = f"version={version}" if version is not None else f"label={label}"
    return f"@@@langfusePrompt:name={name}|{selector}@@@"


async def key(db: AsyncSession, settings: Settings, scopes: tuple[Scope, ...]) -> dict[str, str]:
    return (await make_api_key(db, settings, scopes=scopes))[1]


async def served(client: httpx.AsyncClient, headers: dict[str, str], name: str = ROOT) -> str:
    response = await client.get(f"{URL}/{name}", headers=headers)
    assert response.status_code == 200, response.text
    prompt: str = response.json()["prompt"]
    return prompt


def assert_needs_deploy(response: httpx.Response, dependents: list[str]) -> None:
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["code"] == "insufficient_scope"
    assert error["details"]["required_scope"] == "prompts:deploy"
    assert error["details"]["dependents"] == dependents
    assert "prompts:deploy" in error["message"]


@pytest.fixture
async def part_by_latest(db: AsyncSession) -> None:
    """The security review's setup: production of rv/root reads rv/part by `latest`."""
    await make_prompt(db, PART, "honest part")
    await make_prompt(db, ROOT, "Tutor: " + ref(PART, label="latest"), labels=["production"])


@pytest.fixture
async def part_by_staging(db: AsyncSession) -> None:
    """Production of rv/root reads rv/part by `staging` (on v1); rv/part v2 holds only `latest`."""
    await make_prompt(db, PART, "one", labels=["staging"])
    await make_prompt(db, PART, "two")
    await make_prompt(db, ROOT, "Tutor: " + ref(PART, label="staging"), labels=["production"])


class TestAWriteKeyCannotChangeWhatProductionServes:
    async def test_a_new_version_of_a_part_production_reads_by_latest_is_403_and_production_is_unchanged(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, part_by_latest: None
    ) -> None:
        basic = await key(db, settings, WRITE)
        response = await client.post(URL, json={"name": PART, "prompt": "EVIL TEXT"}, headers=basic)
        assert_needs_deploy(response, ["rv/root v1 depends on rv/part latest"])
        assert await served(client, basic) == "Tutor: honest part"
        assert (await client.get(f"{URL}/{PART}", params={"version": 2}, headers=basic)).status_code == 404

    async def test_a_new_version_given_a_label_production_reads_is_403(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, part_by_staging: None
    ) -> None:
        basic = await key(db, settings, WRITE)
        body = {"name": PART, "prompt": "EVIL TEXT", "labels": ["staging"]}
        assert_needs_deploy(await client.post(URL, json=body, headers=basic), ["rv/root v1 depends on rv/part staging"])
        assert await served(client, basic) == "Tutor: one"

    async def test_patching_a_label_production_reads_onto_another_version_is_403(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, part_by_staging: None
    ) -> None:
        basic = await key(db, settings, WRITE)
        response = await client.patch(f"{URL}/{PART}/versions/2", json={"newLabels": ["staging"]}, headers=basic)
        assert_needs_deploy(response, ["rv/root v1 depends on rv/part staging"])
        assert await served(client, basic) == "Tutor: one"

    async def test_deleting_the_version_a_production_reference_resolves_to_is_403(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, part_by_staging: None
    ) -> None:
        basic = await key(db, settings, WRITE)
        dependents = ["rv/root v1 depends on rv/part staging"]
        assert_needs_deploy(await client.delete(f"{URL}/{PART}", params={"version": 1}, headers=basic), dependents)
        assert_needs_deploy(
            await client.delete(f"{URL}/{PART}", params={"label": "staging"}, headers=basic), dependents
        )
        assert_needs_deploy(await client.delete(f"{URL}/{PART}", headers=basic), dependents)
        assert await served(client, basic) == "Tutor: one"

    async def test_deleting_the_newest_version_which_moves_latest_is_403(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, part_by_latest: None
    ) -> None:
        await make_prompt(db, PART, "newer part")
        basic = await key(db, settings, WRITE)
        response = await client.delete(f"{URL}/{PART}", params={"version": 2}, headers=basic)
        assert_needs_deploy(response, ["rv/root v1 depends on rv/part latest"])
        assert await served(client, basic) == "Tutor: newer part"

    async def test_a_label_reached_through_another_prompts_label_is_guarded_too(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        await make_prompt(db, LEAF, "leaf one", labels=["y"])
        await make_prompt(db, LEAF, "leaf two")
        await make_prompt(db, MID, "[" + ref(LEAF, label="y") + "]", labels=["x"])
        await make_prompt(db, ROOT, "Tutor: " + ref(MID, label="x"), labels=["production"])
        basic = await key(db, settings, WRITE)
        response = await client.patch(f"{URL}/{LEAF}/versions/2", json={"newLabels": ["y"]}, headers=basic)
        assert_needs_deploy(response, ["rv/root v1 depends on rv/leaf y through rv/mid v1"])
        assert await served(client, basic) == "Tutor: [leaf one]"

    async def test_a_label_reached_through_a_version_reference_is_guarded_too(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        # The version reference pins rv/mid v1, but v1's own label reference still follows rv/leaf's `y`.
        await make_prompt(db, LEAF, "leaf one", labels=["y"])
        await make_prompt(db, LEAF, "leaf two")
        await make_prompt(db, MID, "[" + ref(LEAF, label="y") + "]")
        await make_prompt(db, ROOT, "Tutor: " + ref(MID, version=1), labels=["production"])
        basic = await key(db, settings, WRITE)
        response = await client.patch(f"{URL}/{LEAF}/versions/2", json={"newLabels": ["y"]}, headers=basic)
        assert_needs_deploy(response, ["rv/root v1 depends on rv/leaf y through rv/mid v1"])

    async def test_the_deepest_legal_chain_is_guarded(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        # rv/root (level 0) → rv/c1 → rv/c2 → rv/c3 → rv/c4 (level 4, the deepest a composition may go).
        await make_prompt(db, "rv/c4", "deep one", labels=["y"])
        await make_prompt(db, "rv/c4", "deep two")
        for level in (3, 2, 1):
            await make_prompt(
                db, f"rv/c{level}", ref(f"rv/c{level + 1}", label="x" if level < 3 else "y"), labels=["x"]
            )
        await make_prompt(db, ROOT, ref("rv/c1", label="x"), labels=["production"])
        basic = await key(db, settings, WRITE)
        response = await client.patch(f"{URL}/rv%2Fc4/versions/2", json={"newLabels": ["y"]}, headers=basic)
        assert_needs_deploy(response, ["rv/root v1 depends on rv/c4 y through rv/c1 v1, rv/c2 v1, rv/c3 v1"])
        assert await served(client, basic) == "deep one"


class TestWhatAWriteKeyMayStillDo:
    async def test_a_label_no_production_prompt_reaches_moves_freely(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, part_by_staging: None
    ) -> None:
        await service.set_labels(db, ADMIN, PART, 1, ["beta"])
        await make_prompt(db, "rv/draft", "Draft: " + ref(PART, label="beta"))  # read by a prompt not in production
        basic = await key(db, settings, WRITE)
        patched = await client.patch(f"{URL}/{PART}/versions/2", json={"newLabels": ["beta"]}, headers=basic)
        assert patched.status_code == 200, patched.text
        created = await client.post(URL, json={"name": PART, "prompt": "three"}, headers=basic)  # takes `latest`
        assert created.status_code == 201, created.text
        assert await served(client, basic) == "Tutor: one"

    async def test_a_label_read_only_by_a_version_that_left_production_moves_freely(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, part_by_latest: None
    ) -> None:
        await make_prompt(db, ROOT, "Tutor, plainly.", labels=["production"])  # v1, which reads `latest`, retires
        basic = await key(db, settings, WRITE)
        created = await client.post(URL, json={"name": PART, "prompt": "new part"}, headers=basic)
        assert created.status_code == 201, created.text
        assert await served(client, basic) == "Tutor, plainly."

    async def test_a_reference_by_version_is_unaffected(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        await make_prompt(db, PART, "one")
        await make_prompt(db, ROOT, "Tutor: " + ref(PART, version=1), labels=["production"])
        basic = await key(db, settings, WRITE)
        created = await client.post(URL, json={"name": PART, "prompt": "two", "labels": ["staging"]}, headers=basic)
        assert created.status_code == 201, created.text
        patched = await client.patch(f"{URL}/{PART}/versions/1", json={"newLabels": ["staging"]}, headers=basic)
        assert patched.status_code == 200, patched.text
        assert await served(client, basic) == "Tutor: one"


class TestADeployKeyMayChangeWhatProductionServes:
    async def test_it_patches_a_label_production_reads(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, part_by_staging: None
    ) -> None:
        basic = await key(db, settings, DEPLOY)
        response = await client.patch(f"{URL}/{PART}/versions/2", json={"newLabels": ["staging"]}, headers=basic)
        assert response.status_code == 200, response.text
        assert await served(client, basic) == "Tutor: two"

    async def test_it_creates_a_version_production_reads_by_latest(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, part_by_latest: None
    ) -> None:
        basic = await key(db, settings, DEPLOY)
        created = await client.post(URL, json={"name": PART, "prompt": "reviewed part"}, headers=basic)
        assert created.status_code == 201, created.text
        assert await served(client, basic) == "Tutor: reviewed part"


class TestTheGuardsCost:
    async def test_a_refusal_costs_as_many_queries_for_one_production_dependent_as_for_many(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, db_engine: AsyncEngine
    ) -> None:
        for part, roots in (("rv/few", 1), ("rv/many", 6)):
            await make_prompt(db, part, "one", labels=["staging"])
            await make_prompt(db, part, "two")
            for i in range(roots):
                await make_prompt(db, f"{part}-mid{i}", ref(part, label="staging"), labels=["x"])
                await make_prompt(db, f"{part}-root{i}", ref(f"{part}-mid{i}", label="x"), labels=["production"])
        basic = await key(db, settings, WRITE)
        await served(client, basic, "rv/few-root0")  # the key is verified and cached: both PATCHes start warm
        with count_statements(db_engine) as few:
            one = await client.patch(f"{URL}/rv%2Ffew/versions/2", json={"newLabels": ["staging"]}, headers=basic)
        with count_statements(db_engine) as many:
            six = await client.patch(f"{URL}/rv%2Fmany/versions/2", json={"newLabels": ["staging"]}, headers=basic)
        assert (one.status_code, six.status_code) == (403, 403), (one.text, six.text)
        assert len(six.json()["error"]["details"]["dependents"]) == 6
        assert few.count == many.count, (few.statements, many.statements)


class TestSignedInUsers:
    """v1 writes are platform-admin only today; the service enforces the rule for any writer all the same."""

    async def test_a_writer_who_may_not_move_production_gets_the_protected_label_error(
        self, db: AsyncSession, part_by_staging: None
    ) -> None:
        with pytest.raises(Forbidden) as caught:
            await service.set_labels(db, EDITOR, PART, 2, ["staging"])
        assert caught.value.error_code == "protected_label"
        assert caught.value.details == {"dependents": ["rv/root v1 depends on rv/part staging"]}

    async def test_a_platform_administrator_may(self, db: AsyncSession, part_by_staging: None) -> None:
        assert "staging" in (await service.set_labels(db, ADMIN, PART, 2, ["staging"])).labels
