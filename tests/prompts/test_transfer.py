"""Export and import: every version, label and tag; importing the same file twice changes nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from tests.fixtures.prompts import ADMIN, make_prompt
from twosigma.kit.errors import BadRequest, Conflict
from twosigma.prompts.models import Prompt, PromptLabelEvent
from twosigma.prompts.services.changes import delete_prompt
from twosigma.prompts.services.queries import get_prompt
from twosigma.prompts.transfer import export_prompts, import_prompts


async def _arrange(db: AsyncSession) -> dict[str, Any]:
    await make_prompt(db, "xfer/base", "Be kind.", labels=["production"], tags=["t1"])
    await make_prompt(db, "xfer/base", "Be very kind.")
    await make_prompt(
        db,
        "xfer/chat",
        [
            {"role": "system", "content": "@@@langfusePrompt:name=xfer/base|label=production@@@"},
            {"type": "placeholder", "name": "h"},
        ],
        type="chat",
        labels=["staging"],
    )
    data = await export_prompts(db)
    data["prompts"] = [p for p in data["prompts"] if p["name"].startswith("xfer/")]
    return data


async def _snapshot(db: AsyncSession) -> list[tuple[Any, ...]]:
    rows = (
        await db.scalars(select(Prompt).where(Prompt.name.like("xfer/%")).order_by(Prompt.name, Prompt.version))
    ).all()
    for row in rows:
        await db.refresh(row)
    return [(r.name, r.version, r.type, r.prompt, sorted(r.labels), sorted(r.tags), r.updated_at) for r in rows]


class TestExportImport:
    async def test_export_holds_every_version_label_and_tag(self, db: AsyncSession) -> None:
        data = await _arrange(db)
        assert [(p["name"], p["version"], p["labels"], p["tags"]) for p in data["prompts"]] == [
            ("xfer/base", 1, ["production"], ["t1"]),
            ("xfer/base", 2, ["latest"], ["t1"]),
            ("xfer/chat", 1, ["latest", "staging"], []),
        ]
        assert data["prompts"][2]["prompt"][1] == {"type": "placeholder", "name": "h"}

    async def test_reimporting_the_same_file_changes_nothing(self, db: AsyncSession) -> None:
        data = await _arrange(db)
        before = await _snapshot(db)
        events = await db.scalar(select(func.count()).select_from(PromptLabelEvent))
        result = await import_prompts(db, ADMIN, data)
        assert (result.created, result.unchanged, result.label_moves) == (0, 3, 0)
        assert await _snapshot(db) == before
        assert await db.scalar(select(func.count()).select_from(PromptLabelEvent)) == events

    async def test_import_into_an_empty_store_recreates_everything(self, db: AsyncSession) -> None:
        data = await _arrange(db)
        for name in ("xfer/chat", "xfer/base"):
            await delete_prompt(db, ADMIN, name)
        result = await import_prompts(db, ADMIN, data)
        assert result.created == 3
        assert (await get_prompt(db, "xfer/chat", label="staging")).prompt[0]["content"] == "Be kind."
        assert (await get_prompt(db, "xfer/base", label="latest")).version == 2
        assert (await import_prompts(db, ADMIN, data)).created == 0

    async def test_a_version_with_different_content_is_a_conflict(self, db: AsyncSession) -> None:
        data = await _arrange(db)
        data["prompts"][0]["prompt"] = "tampered"
        with pytest.raises(Conflict, match="xfer/base v1 already exists with different content"):
            await import_prompts(db, ADMIN, data)

    async def test_a_file_that_is_not_an_export_is_refused(self, db: AsyncSession) -> None:
        with pytest.raises(BadRequest):
            await import_prompts(db, ADMIN, {"format": "other", "prompts": []})


class TestCommandLine:
    def test_export_import_and_api_key_commands(self, scratch_url: str, tmp_path: Path) -> None:
        from twosigma.cli import app

        runner = CliRunner()
        source = tmp_path / "in.json"
        source.write_text(
            json.dumps(
                {
                    "format": "twosigma-prompts",
                    "prompts": [
                        {
                            "name": "cli/p",
                            "version": 1,
                            "type": "text",
                            "prompt": "one",
                            "labels": ["production"],
                            "tags": ["x"],
                        },
                        {"name": "cli/p", "version": 2, "type": "text", "prompt": "two"},
                    ],
                }
            )
        )
        first = runner.invoke(app, ["prompts", "import", str(source)])
        assert first.exit_code == 0, first.output
        assert "2 created" in first.output
        again = runner.invoke(app, ["prompts", "import", str(source)])
        assert "0 created, 2 unchanged, 0 label moves" in again.output
        out = tmp_path / "out.json"
        assert runner.invoke(app, ["prompts", "export", str(out)]).exit_code == 0
        exported = json.loads(out.read_text())["prompts"]
        assert [(p["version"], p["labels"], p["tags"]) for p in exported] == [
            (1, ["production"], ["x"]),
            (2, ["latest"], ["x"]),
        ]
        broken = tmp_path / "broken.json"
        broken.write_text("{nope")
        assert runner.invoke(app, ["prompts", "import", str(broken)]).exit_code == 1

        created = runner.invoke(app, ["api-keys", "create", "--name", "ci"])
        assert created.exit_code == 0, created.output
        assert "public_key: pk-lf-" in created.output
        assert "secret_key: sk-lf-" in created.output
