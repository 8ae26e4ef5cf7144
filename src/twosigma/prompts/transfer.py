"""Export every prompt version (content, config, labels, tags) to JSON, and import it back idempotently.

Import keeps version numbers. A version that already exists must match the file exactly (versions are immutable);
a missing one is inserted. Labels in the file are moved onto the file's versions (recorded as label events);
labels the file does not mention are left alone; `latest` always ends on each name's highest version. Tags are
set from the file. Every imported prompt must resolve afterwards, or nothing is imported. Re-importing the same
file changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.kit.cache import invalidate
from twosigma.kit.errors import BadRequest, Conflict
from twosigma.prompts import repository as repo
from twosigma.prompts.cache import PromptCache
from twosigma.prompts.composition import CompositionError, resolve_row, stored_content, to_stored
from twosigma.prompts.models import Prompt
from twosigma.prompts.schemas import LATEST, PromptCreate
from twosigma.prompts.services.changes import Actor, give_labels
from twosigma.prompts.templates import dependency_tags

FORMAT = "twosigma-prompts"


class ExportedVersion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    version: int = Field(ge=1)
    type: str
    prompt: Any
    config: Any = Field(default_factory=dict)
    labels: list[str] = Field(default_factory=list)
    tags: list[str] | None = None  # the name's tags: the last version that gives them wins
    commit_message: str | None = None
    created_by: str = "import"


class ExportFile(BaseModel):
    format: str = FORMAT
    format_version: int = 1
    prompts: list[ExportedVersion]


async def export_prompts(session: AsyncSession) -> dict[str, Any]:
    rows = await repo.all_prompts(session)
    versions = [
        ExportedVersion(
            name=r.name,
            version=r.version,
            type=r.type,
            prompt=stored_content(r),
            config=r.config,
            labels=sorted(r.labels),
            tags=list(r.tags),
            commit_message=r.commit_message,
            created_by=r.created_by,
        )
        for r in rows
    ]
    return ExportFile(prompts=versions).model_dump(mode="json")


@dataclass
class ImportResult:
    created: int = 0
    unchanged: int = 0
    label_moves: int = 0


def _validated(entry: ExportedVersion) -> PromptCreate:
    try:
        return PromptCreate.model_validate(
            {"name": entry.name, "type": entry.type, "prompt": entry.prompt, "config": entry.config}
        )
    except ValueError as exc:
        raise BadRequest(f"{entry.name} v{entry.version} is not a valid prompt: {exc}") from exc


async def import_prompts(session: AsyncSession, actor: Actor, data: dict[str, Any]) -> ImportResult:
    try:
        parsed = ExportFile.model_validate(data)
    except ValueError as exc:
        raise BadRequest(f"Not a prompts export file: {exc}") from exc
    if parsed.format != FORMAT:
        raise BadRequest(f"Not a prompts export file (format {parsed.format!r}).")
    result = ImportResult()
    by_name: dict[str, list[ExportedVersion]] = {}
    for entry in sorted(parsed.prompts, key=lambda e: (e.name, e.version)):
        by_name.setdefault(entry.name, []).append(entry)
    touched: list[Prompt] = []
    for name, entries in by_name.items():
        await repo.lock_name(session, name)
        existing = {r.version: r for r in await repo.versions(session, name)}
        rows: dict[int, Prompt] = {}
        created: set[int] = set()
        for entry in entries:
            body = _validated(entry)
            content = body.content()
            row = existing.get(entry.version)
            if row is not None:
                if row.type != body.type or stored_content(row) != content or row.config != body.config:
                    raise Conflict(f"{name} v{entry.version} already exists with different content.")
                result.unchanged += 1
            else:
                types = {r.type for r in existing.values()} | {body.type}
                if len(types) > 1:
                    raise Conflict(f"{name}: versions of one prompt must share a type.")
                row = Prompt(
                    name=name,
                    version=entry.version,
                    type=body.type,
                    prompt=to_stored(content),
                    config=body.config,
                    labels=[],
                    tags=[],
                    commit_message=entry.commit_message,
                    created_by=entry.created_by,
                )
                session.add(row)
                await session.flush()
                refs = [(t.name, t.version, t.label) for t in dependency_tags(content)]
                await repo.add_dependencies(session, row.id, refs)
                existing[entry.version] = row
                created.add(entry.version)
                result.created += 1
            rows[entry.version] = row
        given = [e.tags for e in entries if e.tags is not None]
        kept = [existing[v] for v in sorted(existing) if v not in created]
        tags = given[-1] if given else (list(kept[-1].tags) if kept else [])
        if any(sorted(r.tags) != sorted(tags) for r in existing.values()):
            await repo.set_tags(session, name, tags)
        for entry in entries:
            for label in entry.labels:
                if label != LATEST and label not in rows[entry.version].labels:
                    await give_labels(session, rows[entry.version], [label], actor)
                    result.label_moves += 1
        newest = existing[max(existing)]
        if LATEST not in newest.labels:
            await give_labels(session, newest, [LATEST], actor)
            result.label_moves += 1
        await invalidate(session, PromptCache.payload)
        touched.extend(rows.values())
    for row in touched:
        await session.refresh(row)
        try:
            await resolve_row(session, row)
        except CompositionError as exc:
            raise BadRequest(f"{row.name} v{row.version} does not resolve: {exc.message}") from exc
    return result
