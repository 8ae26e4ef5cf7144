"""Prompt reads: fetch (resolved and cached, or raw), list, label history, diff, compile."""

from __future__ import annotations

import difflib
import json
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.kit.errors import BadRequest, Invalid, NotFound
from twosigma.kit.pagination import PageParams, PageResult
from twosigma.prompts import repository as repo
from twosigma.prompts.cache import CacheKey, PromptCache, key_for
from twosigma.prompts.composition import ResolvedPrompt, as_resolved, resolve_row, stored_content
from twosigma.prompts.models import Prompt
from twosigma.prompts.schemas import PRODUCTION, CompileRequest
from twosigma.prompts.templates import compile_chat, compile_text, content_variable_names, placeholder_names


def _not_found(name: str, version: int | None, label: str | None) -> NotFound:
    what = f"with version {version}" if version is not None else f"with label '{label}'"
    return NotFound(f"Prompt not found: '{name}' {what}", code="prompt_not_found")


async def _row(session: AsyncSession, name: str, version: int | None, label: str | None) -> Prompt:
    row = (
        await repo.by_version(session, name, version)
        if version is not None
        else await repo.by_label(session, name, label or PRODUCTION)
    )
    if row is None:
        raise _not_found(name, version, label or PRODUCTION)
    return row


def prompt_key(name: str, version: int | None, label: str | None) -> CacheKey:
    """The cache key of one version by number or label (default `production`); 400 for both."""
    if version is not None and label is not None:
        raise BadRequest("Give either `version` or `label`, not both.")
    return key_for(name, version, PRODUCTION if version is None and label is None else label)


async def get_prompt(
    session: AsyncSession,
    name: str,
    *,
    version: int | None = None,
    label: str | None = None,
    resolve: bool = True,
    cache: PromptCache | None = None,
) -> ResolvedPrompt:
    """One version by number or label (default `production`), every composition tag resolved unless
    resolve=False; through `cache` when given (the app's: prompts/dependencies.py), else read each time."""
    key = prompt_key(name, version, label)
    if version is None and label is None:
        label = PRODUCTION
    if not resolve:
        row = await _row(session, name, version, label)
        return as_resolved(row, stored_content(row), None)
    if cache is None:
        return await resolve_row(session, await _row(session, name, version, label))
    hit = cache.get(key)
    if hit is not None:
        return hit
    generation = cache.generation
    resolved = await resolve_row(session, await _row(session, name, version, label))
    cache.put(key, resolved, generation)
    return resolved


async def get_resolved_prompt(
    session: AsyncSession, name: str, label: str = PRODUCTION, *, cache: PromptCache | None = None
) -> ResolvedPrompt:
    """What the tutor calls: the version holding `label`, every composition tag resolved, through `cache`."""
    return await get_prompt(session, name, label=label, cache=cache)


async def list_prompts(session: AsyncSession, filters: repo.ListFilters, params: PageParams) -> PageResult[Any]:
    """One entry per name (Langfuse's prompt meta): the matching versions, their labels, the name's tags."""
    names, total = await repo.list_names(session, filters, params.limit, params.offset)
    rows = await repo.rows_for_names(session, names, filters)
    by_name: dict[str, list[Prompt]] = {}
    for row in rows:
        by_name.setdefault(row.name, []).append(row)
    items = []
    for name in names:
        versions = by_name.get(name, [])
        if not versions:
            continue
        newest = versions[-1]
        items.append(
            {
                "name": name,
                "type": newest.type,
                "versions": [r.version for r in versions],
                "labels": sorted({label for r in versions for label in r.labels}),
                "tags": list(newest.tags),
                "last_updated_at": max(r.updated_at for r in versions),
                "last_config": newest.config,
            }
        )
    return PageResult(items=items, page=params.page, limit=params.limit, total=total)


async def label_history(session: AsyncSession, name: str, label: str | None, params: PageParams) -> PageResult[Any]:
    events, total = await repo.label_events(session, name, label, params.limit, params.offset)
    if total == 0 and await repo.latest_row(session, name) is None:
        raise NotFound(f"Prompt not found: '{name}'", code="prompt_not_found")
    return PageResult(items=events, page=params.page, limit=params.limit, total=total)


def _lines(row: Prompt) -> list[str]:
    content = stored_content(row)
    text = content if isinstance(content, str) else json.dumps(content, indent=2, ensure_ascii=False)
    return text.splitlines(keepends=True)


async def diff_versions(session: AsyncSession, name: str, from_version: int, to_version: int) -> dict[str, Any]:
    """A unified diff of the stored (unresolved) content of two versions; chat prompts as indented JSON."""
    old = await _row(session, name, from_version, None)
    new = await _row(session, name, to_version, None)
    diff = difflib.unified_diff(
        _lines(old), _lines(new), fromfile=f"{name}@{from_version}", tofile=f"{name}@{to_version}"
    )
    return {"name": name, "from_version": from_version, "to_version": to_version, "diff": "".join(diff)}


async def compile_prompt(
    session: AsyncSession, name: str, body: CompileRequest, *, cache: PromptCache | None = None
) -> dict[str, Any]:
    """Fill variables (and, for chat, placeholders). Strict: any missing or unused name is a 422 listing them."""
    prompt = await get_prompt(session, name, version=body.version, label=body.label, cache=cache)
    found = content_variable_names(prompt.prompt)
    slots = placeholder_names(prompt.prompt) if isinstance(prompt.prompt, list) else []
    if body.strict:
        missing = [v for v in found if v not in body.variables] + [p for p in slots if p not in body.placeholders]
        unused = [v for v in body.variables if v not in found] + [p for p in body.placeholders if p not in slots]
        if missing or unused:
            raise Invalid(
                "The variables given do not match the prompt's.",
                code="prompt_variables_mismatch",
                details={"missing": missing, "unused": unused},
            )
    if isinstance(prompt.prompt, str):
        compiled: Any = compile_text(prompt.prompt, body.variables)
    else:
        compiled = compile_chat(prompt.prompt, body.variables, body.placeholders)
    return {
        "name": prompt.name,
        "version": prompt.version,
        "type": prompt.type,
        "prompt": compiled,
        "config": prompt.config,
        "labels": prompt.labels,
        "variables": found,
    }
