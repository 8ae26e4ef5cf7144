"""Composition: references resolved on every read, validated on every write, with Langfuse's messages."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.prompts import ADMIN, make_prompt
from twosigma.kit.errors import BadRequest, Conflict
from twosigma.prompts.models import PromptDependency
from twosigma.prompts.services import changes as service
from twosigma.prompts.services.queries import get_prompt


def ref(name: str, *, version: int | None = None, label: str | None = None) -> str:
    selector = f"version={version}" if version is not None else f"label={label}"
    return f"@@@langfusePrompt:name={name}|{selector}@@@"


async def _chain(db: AsyncSession, depth: int) -> None:
    """d0 is a leaf; d{i} references d{i-1}: resolving d{depth} reaches d0 at level `depth`."""
    await make_prompt(db, "d0", "leaf")
    for i in range(1, depth + 1):
        await make_prompt(db, f"d{i}", f"[{i}]" + ref(f"d{i - 1}", version=1))


class TestResolution:
    async def test_version_reference_is_replaced_by_the_child_text(self, db: AsyncSession) -> None:
        await make_prompt(db, "base", "Be kind.")
        parent = await make_prompt(db, "tutor", "Rules: " + ref("base", version=1) + " Hi {{name}}")
        assert parent.prompt == "Rules: Be kind. Hi {{name}}"

    async def test_label_reference_follows_later_label_moves(self, db: AsyncSession) -> None:
        await make_prompt(db, "base", "one", labels=["production"])
        await make_prompt(db, "tutor", ref("base", label="production"), labels=["production"])
        await make_prompt(db, "base", "two")
        assert (await get_prompt(db, "tutor")).prompt == "one"
        await service.set_labels(db, ADMIN, "base", 2, ["production"])
        assert (await get_prompt(db, "tutor")).prompt == "two"

    async def test_chat_content_is_resolved(self, db: AsyncSession) -> None:
        await make_prompt(db, "base", "Be kind.")
        chat = await make_prompt(
            db, "chat", [{"role": "system", "content": "S: " + ref("base", version=1)}], type="chat"
        )
        assert chat.prompt == [{"role": "system", "content": "S: Be kind."}]

    async def test_nested_references_resolve_recursively(self, db: AsyncSession) -> None:
        await _chain(db, 2)
        assert (await get_prompt(db, "d2", version=1)).prompt == "[2][1]leaf"

    async def test_raw_read_keeps_the_tags_and_has_no_graph(self, db: AsyncSession) -> None:
        await make_prompt(db, "base", "x")
        await make_prompt(db, "tutor", ref("base", version=1))
        raw = await get_prompt(db, "tutor", version=1, resolve=False)
        assert (raw.prompt, raw.resolution_graph) == (ref("base", version=1), None)

    async def test_resolution_graph_has_langfuses_shape(self, db: AsyncSession) -> None:
        base = await make_prompt(db, "base", "x")
        mid = await make_prompt(db, "mid", ref("base", version=1))
        top = await make_prompt(db, "top", ref("mid", version=1) + ref("base", label="latest"))
        assert top.resolution_graph == {
            "root": {"id": str(top.id), "name": "top", "version": 1},
            "dependencies": {
                str(top.id): [
                    {"id": str(mid.id), "name": "mid", "version": 1},
                    {"id": str(base.id), "name": "base", "version": 1},
                ],
                str(mid.id): [{"id": str(base.id), "name": "base", "version": 1}],
            },
        }

    async def test_prompt_without_references_has_no_graph(self, db: AsyncSession) -> None:
        assert (await make_prompt(db, "plain", "x")).resolution_graph is None

    async def test_malformed_tags_stay_as_written(self, db: AsyncSession) -> None:
        text = "@@@langfusePrompt:name=base@@@ and @@@langfusePrompt:version=1|name=base@@@"
        assert (await make_prompt(db, "odd", text)).prompt == text

    async def test_dependencies_are_stored(self, db: AsyncSession) -> None:
        await make_prompt(db, "base", "x", labels=["staging"])
        top = await make_prompt(db, "top", ref("base", version=1) + ref("base", label="staging"))
        rows = (await db.scalars(select(PromptDependency).where(PromptDependency.parent_id == top.id))).all()
        assert {(r.child_name, r.child_version, r.child_label) for r in rows} == {
            ("base", 1, None),
            ("base", None, "staging"),
        }


class TestValidationOnCreate:
    async def test_root_and_four_nested_levels_are_accepted(self, db: AsyncSession) -> None:
        await _chain(db, 4)
        assert (await get_prompt(db, "d4", version=1)).prompt == "[4][3][2][1]leaf"

    async def test_a_fifth_nested_level_is_refused(self, db: AsyncSession) -> None:
        await _chain(db, 4)
        with pytest.raises(BadRequest, match=r"^Maximum nesting depth exceeded \(5\)$"):
            await make_prompt(db, "d5", ref("d4", version=1))

    async def test_missing_version_is_refused(self, db: AsyncSession) -> None:
        await make_prompt(db, "base", "x")
        with pytest.raises(BadRequest, match=r"^Prompt dependency not found: base - version 9$"):
            await make_prompt(db, "top", ref("base", version=9))

    async def test_missing_label_is_refused(self, db: AsyncSession) -> None:
        with pytest.raises(BadRequest, match=r"^Prompt dependency not found: nowhere - label production$"):
            await make_prompt(db, "top", ref("nowhere", label="production"))

    async def test_chat_prompts_cannot_be_referenced(self, db: AsyncSession) -> None:
        await make_prompt(db, "chat", [{"role": "system", "content": "x"}], type="chat")
        with pytest.raises(BadRequest, match=r"^Prompt dependency is not a text prompt: chat - version 1$"):
            await make_prompt(db, "top", ref("chat", version=1))

    async def test_referencing_another_version_of_the_same_name_is_refused(self, db: AsyncSession) -> None:
        await make_prompt(db, "self", "x")
        with pytest.raises(BadRequest, match=r"^Circular dependency detected involving prompt 'self' version 1$"):
            await make_prompt(db, "self", ref("self", version=1))

    async def test_cycles_are_refused(self, db: AsyncSession) -> None:
        await make_prompt(db, "a", "start", labels=["production"])
        await make_prompt(db, "b", ref("a", label="production"), labels=["production"])
        with pytest.raises(BadRequest, match=r"^Circular dependency detected involving prompt 'a' version 1$"):
            await make_prompt(db, "a", ref("b", label="production"))

    async def test_a_label_move_that_would_nest_too_deep_is_refused(self, db: AsyncSession) -> None:
        await _chain(db, 3)
        await make_prompt(db, "mid", "plain", labels=["staging"])
        await make_prompt(db, "top", ref("mid", label="staging"))
        await make_prompt(db, "mid", ref("d3", version=1))  # fine on its own: d0 sits at level 4
        with pytest.raises(Conflict) as caught:
            await service.set_labels(db, ADMIN, "mid", 2, ["staging"])
        assert caught.value.details == {"dependents": ["top v1: Maximum nesting depth exceeded (5)"]}


class TestDependentsProtectTheirTargets:
    async def test_deleting_a_referenced_version_is_refused_listing_dependents(self, db: AsyncSession) -> None:
        await make_prompt(db, "base", "x")
        await make_prompt(db, "top", ref("base", version=1))
        with pytest.raises(Conflict) as caught:
            await service.delete_prompt(db, ADMIN, "base", version=1)
        assert caught.value.status_code == 409
        assert caught.value.details == {"dependents": ["top v1 depends on base v1"]}
        assert "Other prompts are depending on the prompt version you are trying to delete" in caught.value.message

    async def test_deleting_a_version_holding_a_referenced_label_is_refused(self, db: AsyncSession) -> None:
        await make_prompt(db, "base", "x", labels=["staging"])
        await make_prompt(db, "base", "y")
        await make_prompt(db, "top", ref("base", label="staging"))
        with pytest.raises(Conflict, match="top v1 depends on base staging"):
            await service.delete_prompt(db, ADMIN, "base", version=1)

    async def test_deleting_an_unreferenced_version_is_allowed(self, db: AsyncSession) -> None:
        await make_prompt(db, "base", "x")
        await make_prompt(db, "base", "y")
        await make_prompt(db, "top", ref("base", version=2))
        await service.delete_prompt(db, ADMIN, "base", version=1)

    async def test_deleting_a_referenced_name_is_refused(self, db: AsyncSession) -> None:
        await make_prompt(db, "base", "x")
        await make_prompt(db, "top", ref("base", version=1))
        with pytest.raises(Conflict, match="top v1 depends on base v1"):
            await service.delete_prompt(db, ADMIN, "base")

    async def test_removing_a_referenced_label_is_refused(self, db: AsyncSession) -> None:
        await make_prompt(db, "base", "x", labels=["staging"])
        await make_prompt(db, "top", ref("base", label="staging"))
        with pytest.raises(Conflict, match="depending on the prompt label you are trying to remove") as caught:
            await service.remove_label(db, ADMIN, "base", "staging")
        assert caught.value.details == {"dependents": ["top v1 depends on base staging"]}

    async def test_once_the_dependent_is_gone_the_target_can_be_deleted(self, db: AsyncSession) -> None:
        await make_prompt(db, "base", "x")
        await make_prompt(db, "top", ref("base", version=1))
        await service.delete_prompt(db, ADMIN, "top")
        await service.delete_prompt(db, ADMIN, "base")
