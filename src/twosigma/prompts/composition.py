"""Composition: resolving `@@@langfusePrompt:…@@@` tags into the referenced text prompts, as Langfuse does.

The root is level 0; a prompt reached at level 5 is refused, so the deepest legal chain is the root and four
nested levels. A prompt may not be reached twice on one path (a cycle), and nothing may reference another version
of the root's own name. The resolution graph has Langfuse's shape:
`{"root": {"id", "name", "version"}, "dependencies": {"<parent id>": [{"id", "name", "version"}, …]}}`, or None
when the prompt references nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.kit.errors import BadRequest
from twosigma.prompts import repository as repo
from twosigma.prompts.models import Prompt
from twosigma.prompts.templates import Content, DependencyTag, dependency_tags, replace_tags

MAX_NESTING_DEPTH = 5
NEW_PROMPT_ID = "new"


class CompositionError(BadRequest):
    code = "invalid_prompt_composition"


@dataclass(frozen=True)
class ResolvedPrompt:
    """A prompt version as served: content with every composition tag replaced, and how it was resolved."""

    id: int
    name: str
    version: int
    type: str
    prompt: Content
    config: Any
    labels: list[str]
    tags: list[str]
    commit_message: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    resolution_graph: dict[str, Any] | None = None


def stored_content(row: Prompt) -> Content:
    if row.type == "chat":
        loaded: list[dict[str, Any]] = json.loads(row.prompt or "[]")
        return loaded
    return row.prompt or ""


def to_stored(content: Content) -> str:
    return content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)


def as_resolved(row: Prompt, content: Content, graph: dict[str, Any] | None) -> ResolvedPrompt:
    return ResolvedPrompt(
        id=row.id,
        name=row.name,
        version=row.version,
        type=row.type,
        prompt=content,
        config=row.config,
        labels=list(row.labels),
        tags=list(row.tags),
        commit_message=row.commit_message,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
        resolution_graph=graph,
    )


@dataclass
class _Node:
    id: str
    name: str
    version: int
    content: Content


@dataclass
class _Resolver:
    session: AsyncSession
    root: _Node
    dependencies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)
    found: dict[DependencyTag, Prompt] = field(default_factory=dict)

    async def _child(self, tag: DependencyTag) -> Prompt:
        if tag not in self.found:
            if tag.version is not None:
                row = await repo.by_version(self.session, tag.name, tag.version)
            else:
                assert tag.label is not None
                row = await repo.by_label(self.session, tag.name, tag.label)
            if row is None:
                raise CompositionError(f"Prompt dependency not found: {tag.describe()}")
            self.found[tag] = row
        return self.found[tag]

    async def resolve(self, node: _Node, level: int) -> Content:
        if level >= MAX_NESTING_DEPTH:
            raise CompositionError(f"Maximum nesting depth exceeded ({MAX_NESTING_DEPTH})")
        if node.id in self.seen or (node.name == self.root.name and node.id != self.root.id):
            raise CompositionError(
                f"Circular dependency detected involving prompt '{node.name}' version {node.version}"
            )
        tags = dependency_tags(node.content)
        if not tags:
            return node.content
        self.seen.add(node.id)
        content = node.content
        for tag, raws in tags.items():
            child = await self._child(tag)
            if child.type != "text":
                raise CompositionError(f"Prompt dependency is not a text prompt: {tag.describe()}")
            self.dependencies.setdefault(node.id, []).append(
                {"id": str(child.id), "name": child.name, "version": child.version}
            )
            child_node = _Node(str(child.id), child.name, child.version, stored_content(child))
            resolved_child = await self.resolve(child_node, level + 1)
            assert isinstance(resolved_child, str)
            content = replace_tags(content, raws, resolved_child)
        self.seen.discard(node.id)
        return content

    def graph(self) -> dict[str, Any] | None:
        if not self.dependencies:
            return None
        root = {"id": self.root.id, "name": self.root.name, "version": self.root.version}
        return {"root": root, "dependencies": self.dependencies}


async def resolve_content(
    session: AsyncSession, *, prompt_id: int | None, name: str, version: int, content: Content
) -> tuple[Content, dict[str, Any] | None]:
    """Resolve `content` as prompt (name, version); raise CompositionError with a precise message."""
    root = _Node(NEW_PROMPT_ID if prompt_id is None else str(prompt_id), name, version, content)
    resolver = _Resolver(session, root)
    resolved = await resolver.resolve(root, 0)
    return resolved, resolver.graph()


async def resolve_row(session: AsyncSession, row: Prompt) -> ResolvedPrompt:
    content, graph = await resolve_content(
        session, prompt_id=row.id, name=row.name, version=row.version, content=stored_content(row)
    )
    return as_resolved(row, content, graph)
