"""Every query of the content domain: the module tree, its ordering, and content items.

Ordering contract: the children of a module, and the items of a module, have sequence_index 0..n-1. Every
structural change of a course runs under `lock_course_content` (a transaction-scoped advisory lock), so two
concurrent edits cannot interleave their sibling shifts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypedDict, cast

from sqlalchemy import (
    Integer,
    Select,
    String,
    Table,
    bindparam,
    func,
    literal,
    literal_column,
    null,
    select,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, joinedload

from twosigma.content.models import ContentItem, Module
from twosigma.courses.models import Course
from twosigma.enums import ModuleType
from twosigma.taxonomy.models import ContentType

_CONTENT_LOCK_NAMESPACE = 0x6D6F  # "mo"


class ModuleRow(TypedDict):
    """A module as the tree reads it: a row of `course_modules` or of the tree statement, by column name."""

    id: int
    parent_module_id: int | None
    title: str
    description: str | None
    module_type: ModuleType
    sequence_index: int
    depth: int
    is_published: bool


class ItemRow(TypedDict):
    """An item's summary as the tree reads it (its content type by name), by column name."""

    id: int
    module_id: int
    title: str
    content_type: str
    content_type_id: int
    sequence_index: int
    estimated_duration_seconds: int | None


async def lock_course_content(session: AsyncSession, course_id: int) -> None:
    await session.execute(select(func.pg_advisory_xact_lock(literal(_CONTENT_LOCK_NAMESPACE), literal(course_id))))


# --- Loading -----------------------------------------------------------------------------------------------------


async def get_module_with_course(session: AsyncSession, module_id: int) -> Module | None:
    stmt = (
        select(Module)
        .options(joinedload(Module.course))
        .where(Module.id == module_id)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(stmt)).one_or_none()


async def get_item_with_course(session: AsyncSession, item_id: int) -> tuple[ContentItem, Course] | None:
    stmt = (
        select(ContentItem, Course)
        .join(Course, Course.id == ContentItem.course_id)
        .where(ContentItem.id == item_id)
        .execution_options(populate_existing=True)
    )
    row = (await session.execute(stmt)).one_or_none()
    return (row.ContentItem, row.Course) if row is not None else None


async def get_root(session: AsyncSession, course_id: int) -> Module | None:
    stmt = select(Module).where(Module.course_id == course_id, Module.parent_module_id.is_(None))
    return (await session.scalars(stmt.order_by(Module.id).limit(1))).one_or_none()


async def get_module(session: AsyncSession, module_id: int) -> Module | None:
    stmt = select(Module).where(Module.id == module_id).execution_options(populate_existing=True)
    return (await session.scalars(stmt)).one_or_none()


async def path_published(session: AsyncSession, module_id: int) -> bool:
    """Whether the module and every ancestor up to the root are published (one recursive query)."""
    anc = (
        select(Module.id, Module.parent_module_id, Module.is_published)
        .where(Module.id == module_id)
        .cte("ancestors", recursive=True)
    )
    parent = aliased(Module)
    anc = anc.union_all(
        select(parent.id, parent.parent_module_id, parent.is_published).join(anc, parent.id == anc.c.parent_module_id)
    )
    return bool(await session.scalar(select(func.bool_and(anc.c.is_published))))


@dataclass(frozen=True)
class SubtreeInfo:
    max_depth: int
    contains: bool  # whether the probed module lies inside the subtree


async def subtree_info(session: AsyncSession, module_id: int, probe_id: int) -> SubtreeInfo:
    """Deepest depth in the subtree of `module_id`, and whether `probe_id` is in it (itself included)."""
    sub = select(Module.id, Module.depth).where(Module.id == module_id).cte("subtree", recursive=True)
    child = aliased(Module)
    sub = sub.union_all(select(child.id, child.depth).join(sub, child.parent_module_id == sub.c.id))
    stmt = select(func.max(sub.c.depth).label("max_depth"), func.bool_or(sub.c.id == probe_id).label("contains"))
    row = (await session.execute(stmt)).one()
    return SubtreeInfo(max_depth=int(row.max_depth), contains=bool(row.contains))


async def recompute_depths(session: AsyncSession, module_id: int, new_depth: int) -> None:
    """Set the depth of `module_id` to `new_depth` and of each descendant to its parent's + 1: one UPDATE."""
    sub = (
        select(Module.id.label("id"), literal(new_depth, Integer).label("depth"))
        .where(Module.id == module_id)
        .cte("subtree", recursive=True)
    )
    child = aliased(Module)
    sub = sub.union_all(select(child.id, sub.c.depth + 1).join(sub, child.parent_module_id == sub.c.id))
    stmt = update(Module).where(Module.id == sub.c.id).values(depth=sub.c.depth)
    await session.execute(stmt.execution_options(synchronize_session=False))


# --- Ordering ----------------------------------------------------------------------------------------------------


async def child_count(session: AsyncSession, parent_id: int) -> int:
    return int(await session.scalar(select(func.count()).where(Module.parent_module_id == parent_id)) or 0)


async def shift_children(session: AsyncSession, parent_id: int, from_index: int, delta: int, *, skip_id: int) -> None:
    """Add `delta` to the sequence_index of the children of `parent_id` at or after `from_index`."""
    stmt = (
        update(Module)
        .where(Module.parent_module_id == parent_id, Module.sequence_index >= from_index, Module.id != skip_id)
        .values(sequence_index=Module.sequence_index + delta)
    )
    await session.execute(stmt.execution_options(synchronize_session=False))


async def item_count(session: AsyncSession, module_id: int) -> int:
    return int(await session.scalar(select(func.count()).where(ContentItem.module_id == module_id)) or 0)


async def shift_items(session: AsyncSession, module_id: int, from_index: int, delta: int, *, skip_id: int) -> None:
    stmt = (
        update(ContentItem)
        .where(ContentItem.module_id == module_id, ContentItem.sequence_index >= from_index, ContentItem.id != skip_id)
        .values(sequence_index=ContentItem.sequence_index + delta)
    )
    await session.execute(stmt.execution_options(synchronize_session=False))


# --- Tree and lists ----------------------------------------------------------------------------------------------


# The tree's statements are Core against the tables (no ORM entity is loaded from them): on a 10,000-item course the
# ORM's per-row handling of a column select costs more than the query. A column renamed in a model fails here, when
# the module is imported.
_MODULES = cast(Table, Module.__table__)
_ITEMS = cast(Table, ContentItem.__table__)
_TYPES = cast(Table, ContentType.__table__)

# The columns of a module row and of an item row, named as ModuleRow's and ItemRow's keys.
_MODULE_COLUMNS = (
    _MODULES.c.id,
    _MODULES.c.parent_module_id,
    _MODULES.c.title,
    _MODULES.c.description,
    _MODULES.c.module_type,
    _MODULES.c.sequence_index,
    _MODULES.c.depth,
    _MODULES.c.is_published,
)
_ITEM_COLUMNS = (
    _ITEMS.c.id,
    _ITEMS.c.module_id,
    _ITEMS.c.title,
    _TYPES.c.name.label("content_type"),
    _ITEMS.c.content_type_id,
    _ITEMS.c.sequence_index,
    _ITEMS.c.estimated_duration_seconds,
)


async def course_modules(session: AsyncSession, course_id: int) -> Sequence[ModuleRow]:
    stmt = (
        select(*_MODULE_COLUMNS)
        .where(_MODULES.c.course_id == course_id)
        .order_by(_MODULES.c.depth, _MODULES.c.parent_module_id, _MODULES.c.sequence_index, _MODULES.c.id)
    )
    return cast(Sequence[ModuleRow], (await session.execute(stmt)).mappings().all())


async def course_item_summaries(session: AsyncSession, course_id: int) -> Sequence[ItemRow]:
    stmt = (
        select(*_ITEM_COLUMNS)
        .join(_TYPES, _TYPES.c.id == _ITEMS.c.content_type_id)
        .where(_ITEMS.c.course_id == course_id)
        .order_by(_ITEMS.c.module_id, _ITEMS.c.sequence_index, _ITEMS.c.id)
    )
    return cast(Sequence[ItemRow], (await session.execute(stmt)).mappings().all())


# Told apart in the tree statement's rows by their `kind` column.
_MODULE_KIND, _ITEM_KIND = 0, 1

# Both lists of the course tree in ONE round trip: a UNION ALL of the module rows and the item rows. Every row has
# the columns of both kinds, NULL where the other kind's would be, so each name means one thing; the item SELECT
# lists its columns in the module SELECT's order (a UNION matches columns by position). Sorted by PostgreSQL the
# way the tree is built: modules by parent (the root first) then sibling order, items by module then sibling order.
_TREE_MODULES = select(
    literal_column(str(_MODULE_KIND), Integer).label("kind"),
    *_MODULE_COLUMNS,
    null().cast(Integer).label("module_id"),
    null().cast(String).label("content_type"),
    null().cast(Integer).label("content_type_id"),
    null().cast(Integer).label("estimated_duration_seconds"),
).where(_MODULES.c.course_id == bindparam("course_id"))
_TREE_ITEMS = (
    select(
        literal_column(str(_ITEM_KIND), Integer),
        _ITEMS.c.id,
        null(),  # parent_module_id
        _ITEMS.c.title,
        null(),  # description
        null(),  # module_type
        _ITEMS.c.sequence_index,
        null(),  # depth
        null(),  # is_published
        _ITEMS.c.module_id,
        _TYPES.c.name,
        _ITEMS.c.content_type_id,
        _ITEMS.c.estimated_duration_seconds,
    )
    .join(_TYPES, _TYPES.c.id == _ITEMS.c.content_type_id)
    .where(_ITEMS.c.course_id == bindparam("course_id"))
)
_TREE_ROWS = union_all(_TREE_MODULES, _TREE_ITEMS).subquery("tree_rows")
_TREE = select(_TREE_ROWS).order_by(
    _TREE_ROWS.c.kind,
    _TREE_ROWS.c.parent_module_id.nulls_first(),
    _TREE_ROWS.c.module_id,
    _TREE_ROWS.c.sequence_index,
    _TREE_ROWS.c.id,
)


async def course_tree_rows(session: AsyncSession, course_id: int) -> tuple[Sequence[ModuleRow], Sequence[ItemRow]]:
    """The course's module rows and item rows, each list in tree order, in ONE round trip. Read as mappings: a
    Row's attribute access costs several times a mapping's item access, and a 10,000-item tree reads 100,000
    values."""
    rows = (await session.execute(_TREE, {"course_id": course_id})).mappings().all()
    split = next((i for i, row in enumerate(rows) if row["kind"] == _ITEM_KIND), len(rows))
    return cast(Sequence[ModuleRow], rows[:split]), cast(Sequence[ItemRow], rows[split:])


def module_items_query(module_id: int) -> Select[ContentItem]:
    return (
        select(ContentItem)
        .where(ContentItem.module_id == module_id)
        .order_by(ContentItem.sequence_index, ContentItem.id)
    )
