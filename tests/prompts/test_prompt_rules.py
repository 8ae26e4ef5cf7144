"""Versions, types, labels, tags and names: Langfuse's rules, enforced by the service."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.prompts import ADMIN, EDITOR, make_prompt
from twosigma.kit.errors import BadRequest, Forbidden, NotFound
from twosigma.prompts.models import Prompt, PromptLabelEvent
from twosigma.prompts.schemas import PromptCreate
from twosigma.prompts.services import changes as service
from twosigma.prompts.services.queries import get_prompt


async def _labels(db: AsyncSession, name: str) -> dict[int, list[str]]:
    rows = (await db.scalars(select(Prompt).where(Prompt.name == name).order_by(Prompt.version))).all()
    for row in rows:
        await db.refresh(row)
    return {r.version: sorted(r.labels) for r in rows}


async def _events(db: AsyncSession, name: str) -> list[tuple[str, int | None, int | None]]:
    rows = (
        await db.scalars(
            select(PromptLabelEvent).where(PromptLabelEvent.prompt_name == name).order_by(PromptLabelEvent.id)
        )
    ).all()
    return [(e.label, e.from_version, e.to_version) for e in rows]


class TestVersions:
    async def test_first_version_is_one_and_gets_latest(self, db: AsyncSession) -> None:
        created = await make_prompt(db, "greeting", labels=["production"])
        assert (created.version, sorted(created.labels), created.created_by) == (1, ["latest", "production"], "1")

    async def test_next_version_is_max_plus_one_and_takes_latest(self, db: AsyncSession) -> None:
        await make_prompt(db, "greeting")
        second = await make_prompt(db, "greeting", "Hi {{name}}")
        assert second.version == 2
        assert await _labels(db, "greeting") == {1: [], 2: ["latest"]}
        assert await _events(db, "greeting") == [("latest", None, 1), ("latest", 1, 2)]

    async def test_old_versions_keep_their_content(self, db: AsyncSession) -> None:
        await make_prompt(db, "greeting", "one")
        await make_prompt(db, "greeting", "two")
        assert (await get_prompt(db, "greeting", version=1)).prompt == "one"

    async def test_type_is_fixed_by_the_first_version(self, db: AsyncSession) -> None:
        await make_prompt(db, "greeting", "text")
        with pytest.raises(BadRequest, match="Previous versions have different prompt type"):
            await make_prompt(db, "greeting", [{"role": "system", "content": "x"}], type="chat")

    async def test_chat_variables_and_placeholders_must_not_share_names(self, db: AsyncSession) -> None:
        messages = [{"role": "system", "content": "{{history}}"}, {"type": "placeholder", "name": "history"}]
        with pytest.raises(BadRequest, match="the following are not: history"):
            await make_prompt(db, "chatty", messages, type="chat")


class TestLabels:
    @pytest.mark.parametrize("label", ["Production", "with space", "x" * 37, "", "a/b"])
    def test_malformed_labels_are_refused(self, label: str) -> None:
        with pytest.raises(ValidationError):
            PromptCreate.model_validate({"name": "p", "prompt": "x", "labels": [label]})

    def test_label_of_36_allowed_characters_is_accepted(self) -> None:
        body = PromptCreate.model_validate({"name": "p", "prompt": "x", "labels": ["a-b_c.d" + "0" * 29]})
        assert len(body.labels[0]) == 36

    async def test_giving_a_label_takes_it_from_the_other_version(self, db: AsyncSession) -> None:
        await make_prompt(db, "p", labels=["production", "staging"])
        await make_prompt(db, "p", labels=["production"])
        assert await _labels(db, "p") == {1: ["staging"], 2: ["latest", "production"]}

    async def test_patching_labels_adds_them_and_records_each_move(self, db: AsyncSession) -> None:
        await make_prompt(db, "p", labels=["production"])
        await make_prompt(db, "p")
        updated = await service.set_labels(db, ADMIN, "p", 2, ["production", "beta"])
        assert sorted(updated.labels) == ["beta", "latest", "production"]
        assert await _labels(db, "p") == {1: [], 2: ["beta", "latest", "production"]}
        assert (await _events(db, "p"))[-2:] == [("production", 1, 2), ("beta", None, 2)]

    async def test_latest_cannot_be_set_by_a_user(self, db: AsyncSession) -> None:
        await make_prompt(db, "p")
        await make_prompt(db, "p")
        with pytest.raises(BadRequest, match="'latest' label is reserved"):
            await service.set_labels(db, ADMIN, "p", 1, ["latest"])

    async def test_latest_cannot_be_given_on_create(self, db: AsyncSession) -> None:
        with pytest.raises(BadRequest, match="reserved"):
            await make_prompt(db, "p", labels=["latest"])

    async def test_latest_cannot_be_removed(self, db: AsyncSession) -> None:
        await make_prompt(db, "p")
        with pytest.raises(BadRequest, match="reserved"):
            await service.remove_label(db, ADMIN, "p", "latest")

    async def test_removing_a_label_records_it(self, db: AsyncSession) -> None:
        await make_prompt(db, "p", labels=["staging"])
        await service.remove_label(db, ADMIN, "p", "staging")
        assert await _labels(db, "p") == {1: ["latest"]}
        assert (await _events(db, "p"))[-1] == ("staging", 1, None)

    async def test_patching_an_unknown_version_is_not_found(self, db: AsyncSession) -> None:
        await make_prompt(db, "p")
        with pytest.raises(NotFound, match="Prompt not found: 'p' with version 9"):
            await service.set_labels(db, ADMIN, "p", 9, ["beta"])

    async def test_only_a_platform_admin_moves_production(self, db: AsyncSession) -> None:
        await make_prompt(db, "p")
        with pytest.raises(Forbidden, match="protected"):
            await service.set_labels(db, EDITOR, "p", 1, ["production"])
        with pytest.raises(Forbidden):
            await make_prompt(db, "p", actor=EDITOR, labels=["production"])

    async def test_a_non_admin_writer_may_move_other_labels(self, db: AsyncSession) -> None:
        await make_prompt(db, "p")
        assert "staging" in (await service.set_labels(db, EDITOR, "p", 1, ["staging"])).labels

    async def test_deleting_the_latest_version_moves_latest_down(self, db: AsyncSession) -> None:
        await make_prompt(db, "p")
        await make_prompt(db, "p")
        await make_prompt(db, "p", labels=["staging"])
        await service.delete_prompt(db, ADMIN, "p", version=3)
        assert await _labels(db, "p") == {1: [], 2: ["latest"]}
        assert (await _events(db, "p"))[-2:] == [("staging", 3, None), ("latest", 3, 2)]

    async def test_deleting_by_label_removes_that_version(self, db: AsyncSession) -> None:
        await make_prompt(db, "p", labels=["staging"])
        await make_prompt(db, "p")
        await service.delete_prompt(db, ADMIN, "p", label="staging")
        assert await _labels(db, "p") == {2: ["latest"]}

    async def test_deleting_the_name_removes_every_version(self, db: AsyncSession) -> None:
        await make_prompt(db, "p")
        await make_prompt(db, "p")
        await service.delete_prompt(db, ADMIN, "p")
        assert await _labels(db, "p") == {}
        with pytest.raises(NotFound):
            await service.delete_prompt(db, ADMIN, "p")


class TestFetch:
    async def test_fetch_without_version_or_label_serves_production(self, db: AsyncSession) -> None:
        await make_prompt(db, "p", "one", labels=["production"])
        await make_prompt(db, "p", "two")
        assert (await get_prompt(db, "p")).prompt == "one"

    async def test_fetch_without_a_production_version_is_not_found(self, db: AsyncSession) -> None:
        await make_prompt(db, "p")
        with pytest.raises(NotFound, match="Prompt not found: 'p' with label 'production'"):
            await get_prompt(db, "p")

    async def test_fetch_by_label(self, db: AsyncSession) -> None:
        await make_prompt(db, "p", "one")
        await make_prompt(db, "p", "two")
        assert (await get_prompt(db, "p", label="latest")).version == 2


class TestTags:
    async def test_tags_given_on_create_are_written_to_every_version(self, db: AsyncSession) -> None:
        await make_prompt(db, "p", tags=["a"])
        await make_prompt(db, "p", tags=["b", "c"])
        rows = (await db.scalars(select(Prompt).where(Prompt.name == "p"))).all()
        for row in rows:
            await db.refresh(row)
        assert [sorted(r.tags) for r in rows] == [["b", "c"], ["b", "c"]]

    async def test_omitted_tags_are_inherited(self, db: AsyncSession) -> None:
        await make_prompt(db, "p", tags=["a"])
        assert (await make_prompt(db, "p")).tags == ["a"]


class TestNames:
    @pytest.mark.parametrize(
        "name", ["", "a|b", "x" * 256, "/lead", "trail/", "a//b", "a/versions/2", "a/diff", "a/@@@b"]
    )
    def test_malformed_names_are_refused(self, name: str) -> None:
        with pytest.raises(ValidationError):
            PromptCreate.model_validate({"name": name, "prompt": "x"})

    async def test_folder_names_and_255_characters_are_accepted(self, db: AsyncSession) -> None:
        assert (await make_prompt(db, "tutor/system/base")).name == "tutor/system/base"
        assert (await make_prompt(db, "y" * 255)).version == 1
