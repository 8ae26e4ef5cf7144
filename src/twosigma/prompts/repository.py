"""Every prompt query. Writes to one prompt name are serialized by a transaction-scoped advisory lock."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Integer, Text, and_, any_, cast, delete, func, literal, or_, select, text, update
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from twosigma.prompts.models import Prompt, PromptDependency, PromptLabelEvent


async def lock_name(session: AsyncSession, name: str) -> None:
    """Serialize every write to `name` until the transaction ends (version numbers, label moves)."""
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": name})


async def latest_row(session: AsyncSession, name: str) -> Prompt | None:
    stmt = select(Prompt).where(Prompt.name == name).order_by(Prompt.version.desc()).limit(1)
    return (await session.scalars(stmt)).first()


async def by_version(session: AsyncSession, name: str, version: int) -> Prompt | None:
    stmt = select(Prompt).where(Prompt.name == name, Prompt.version == version)
    return (await session.scalars(stmt)).first()


async def by_label(session: AsyncSession, name: str, label: str) -> Prompt | None:
    stmt = select(Prompt).where(Prompt.name == name, Prompt.labels.contains([label]))
    return (await session.scalars(stmt)).first()


async def versions(session: AsyncSession, name: str) -> Sequence[Prompt]:
    return (await session.scalars(select(Prompt).where(Prompt.name == name).order_by(Prompt.version))).all()


async def holders(session: AsyncSession, name: str, labels: Iterable[str]) -> Sequence[Prompt]:
    stmt = select(Prompt).where(Prompt.name == name, Prompt.labels.overlap(list(labels)))
    return (await session.scalars(stmt)).all()


async def set_tags(session: AsyncSession, name: str, tags: list[str]) -> None:
    await session.execute(
        update(Prompt).where(Prompt.name == name).values(tags=tags).execution_options(synchronize_session="fetch")
    )


async def add_dependencies(
    session: AsyncSession, parent_id: int, refs: Iterable[tuple[str, int | None, str | None]]
) -> None:
    session.add_all(
        PromptDependency(parent_id=parent_id, child_name=n, child_version=v, child_label=lbl) for n, v, lbl in refs
    )


@dataclass(frozen=True)
class Dependent:
    parent_name: str
    parent_version: int
    child_name: str
    child_version: int | None
    child_label: str | None

    def describe(self) -> str:
        target = f"v{self.child_version}" if self.child_version is not None else self.child_label
        return f"{self.parent_name} v{self.parent_version} depends on {self.child_name} {target}"


async def dependents(
    session: AsyncSession,
    child_name: str,
    *,
    versions: Iterable[int] | None = None,
    labels: Iterable[str] | None = None,
) -> list[Dependent]:
    """Prompts of other names referencing `child_name` (all references, or those naming these versions/labels)."""
    stmt = (
        select(
            Prompt.name,
            Prompt.version,
            PromptDependency.child_name,
            PromptDependency.child_version,
            PromptDependency.child_label,
        )
        .join(Prompt, Prompt.id == PromptDependency.parent_id)
        .where(PromptDependency.child_name == child_name, Prompt.name != child_name)
        .order_by(Prompt.name, Prompt.version)
    )
    if versions is not None or labels is not None:
        stmt = stmt.where(
            or_(
                PromptDependency.child_version.in_(list(versions or [])),
                PromptDependency.child_label.in_(list(labels or [])),
            )
        )
    return [Dependent(*row) for row in (await session.execute(stmt)).all()]


@dataclass(frozen=True)
class ReachingDependent:
    """A version holding a protected label whose resolution goes through `child_name`'s `child_label`, via `through`
    (the prompt versions between them, from the top down)."""

    parent_name: str
    parent_version: int
    child_name: str
    child_label: str
    through: tuple[str, ...]

    def describe(self) -> str:
        via = f" through {', '.join(self.through)}" if self.through else ""
        return f"{self.parent_name} v{self.parent_version} depends on {self.child_name} {self.child_label}{via}"


async def reaching_dependents(
    session: AsyncSession, child_name: str, labels: Iterable[str], *, holding: Iterable[str], max_depth: int
) -> list[ReachingDependent]:
    """Versions holding any of `holding` whose resolution reads `child_name` by one of `labels`: directly, or through
    up to `max_depth` references in all (by label to the version now holding it, or by version). One query.

    The walk starts at the references *by label* only: a reference by version to `child_name` never follows a label.
    Above that, a version reached is read by whoever references it by version or by a label it holds now."""
    wanted = list(dict.fromkeys(labels))
    if not wanted:
        return []
    start = aliased(Prompt)
    start_dep = aliased(PromptDependency)
    reach = (
        select(
            start.name.label("name"),
            start.version.label("version"),
            start.labels.label("labels"),
            start_dep.child_label.label("moved"),
            literal(1, Integer).label("depth"),
            array([], type_=Text).label("below"),
        )
        .join(start_dep, start_dep.parent_id == start.id)
        .where(start_dep.child_name == child_name, start_dep.child_label.in_(wanted))
        .cte("reach", recursive=True)
    )
    parent = aliased(Prompt)
    dep = aliased(PromptDependency)
    step = (
        select(
            parent.name,
            parent.version,
            parent.labels,
            reach.c.moved,
            reach.c.depth + 1,
            # the reached version goes in front: `below` lists the chain from just under the top down to the start
            array([reach.c.name + " v" + cast(reach.c.version, Text)]).concat(reach.c.below),
        )
        .join(dep, dep.parent_id == parent.id)
        .join(
            reach,
            and_(
                dep.child_name == reach.c.name,
                or_(dep.child_version == reach.c.version, dep.child_label == any_(reach.c.labels)),
            ),
        )
        .where(reach.c.depth < max_depth)
    )
    reach = reach.union(step)
    stmt = (
        select(reach.c.name, reach.c.version, reach.c.moved, reach.c.below)
        .where(reach.c.labels.overlap(list(holding)))
        .distinct()
        .order_by(reach.c.name, reach.c.version, reach.c.moved, reach.c.below)
    )
    return [
        ReachingDependent(row.name, row.version, child_name, row.moved, tuple(row.below))
        for row in (await session.execute(stmt)).all()
    ]


async def parents_of(session: AsyncSession, child_names: Iterable[str]) -> Sequence[Prompt]:
    """Every prompt version that references any of `child_names`."""
    sub = select(PromptDependency.parent_id).where(PromptDependency.child_name.in_(list(child_names)))
    return (await session.scalars(select(Prompt).where(Prompt.id.in_(sub)).order_by(Prompt.name, Prompt.version))).all()


async def delete_rows(session: AsyncSession, ids: list[int]) -> None:
    await session.execute(delete(Prompt).where(Prompt.id.in_(ids)).execution_options(synchronize_session="fetch"))


def add_event(
    session: AsyncSession, name: str, label: str, from_version: int | None, to_version: int | None, actor: str
) -> None:
    session.add(
        PromptLabelEvent(prompt_name=name, label=label, from_version=from_version, to_version=to_version, actor=actor)
    )


@dataclass(frozen=True)
class ListFilters:
    name: str | None = None
    label: str | None = None
    tag: str | None = None
    version: int | None = None
    from_updated_at: datetime | None = None
    to_updated_at: datetime | None = None


def _filtered(filters: ListFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.name is not None:
        conditions.append(Prompt.name == filters.name)
    if filters.label is not None:
        conditions.append(Prompt.labels.contains([filters.label]))
    if filters.tag is not None:
        conditions.append(Prompt.tags.contains([filters.tag]))
    if filters.version is not None:
        conditions.append(Prompt.version == filters.version)
    if filters.from_updated_at is not None:
        conditions.append(Prompt.updated_at >= filters.from_updated_at)
    if filters.to_updated_at is not None:
        conditions.append(Prompt.updated_at < filters.to_updated_at)
    return conditions


async def list_names(session: AsyncSession, filters: ListFilters, limit: int, offset: int) -> tuple[list[str], int]:
    conditions = _filtered(filters)
    total = await session.scalar(select(func.count(func.distinct(Prompt.name))).where(*conditions))
    names_stmt = (
        select(Prompt.name).where(*conditions).group_by(Prompt.name).order_by(Prompt.name).limit(limit).offset(offset)
    )
    return list((await session.scalars(names_stmt)).all()), int(total or 0)


async def rows_for_names(session: AsyncSession, names: list[str], filters: ListFilters) -> Sequence[Prompt]:
    if not names:
        return []
    stmt = select(Prompt).where(Prompt.name.in_(names), *_filtered(filters)).order_by(Prompt.name, Prompt.version)
    return (await session.scalars(stmt)).all()


async def label_events(
    session: AsyncSession, name: str, label: str | None, limit: int, offset: int
) -> tuple[Sequence[PromptLabelEvent], int]:
    conditions = [PromptLabelEvent.prompt_name == name]
    if label is not None:
        conditions.append(PromptLabelEvent.label == label)
    total = await session.scalar(select(func.count()).select_from(PromptLabelEvent).where(*conditions))
    stmt = (
        select(PromptLabelEvent)
        .where(*conditions)
        .order_by(PromptLabelEvent.at.desc(), PromptLabelEvent.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return (await session.scalars(stmt)).all(), int(total or 0)


async def all_prompts(session: AsyncSession) -> Sequence[Prompt]:
    return (await session.scalars(select(Prompt).order_by(Prompt.name, Prompt.version))).all()
