"""Every query of the content domain: the module tree, its ordering, and content items.

Ordering contract: the children of a module, and the items of a module, have sequence_index 0..n-1. Every
structural change of a course runs under `lock_course_content` (a transaction-scoped advisory lock), so two
concurrent edits cannot interleave their sibling shifts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Integer,
    Row,
    Select,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, joinedload

from twosigma.content.models import ContentItem, Module
from twosigma.courses.models import Course
from twosigma.db.driver import driver_fetch
from twosigma.enums import ModuleType
from twosigma.taxonomy.models import ContentType

_CONTENT_LOCK_NAMESPACE = 0x6D6F  # "mo"

# (id, parent_module_id, title, description, module_type, sequence_index, depth, is_published)
ModuleRow = Row[int, int | None, str, str | None, ModuleType, int, int, bool]
# (id, module_id, title, content type name, content_type_id, sequence_index, estimated_duration_seconds)
ItemSummaryRow = Row[int, int, str, str, int, int, int | None]


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
    return (row[0], row[1]) if row is not None else None


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
    row = (await session.execute(select(func.max(sub.c.depth), func.bool_or(sub.c.id == probe_id)))).one()
    return SubtreeInfo(max_depth=int(row[0]), contains=bool(row[1]))


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


async def course_modules(session: AsyncSession, course_id: int) -> Sequence[ModuleRow]:
    stmt = (
        select(
            Module.id,
            Module.parent_module_id,
            Module.title,
            Module.description,
            Module.module_type,
            Module.sequence_index,
            Module.depth,
            Module.is_published,
        )
        .where(Module.course_id == course_id)
        .order_by(Module.depth, Module.parent_module_id, Module.sequence_index, Module.id)
    )
    return (await session.execute(stmt)).all()


async def course_item_summaries(session: AsyncSession, course_id: int) -> Sequence[ItemSummaryRow]:
    stmt = (
        select(
            ContentItem.id,
            ContentItem.module_id,
            ContentItem.title,
            ContentType.name,
            ContentItem.content_type_id,
            ContentItem.sequence_index,
            ContentItem.estimated_duration_seconds,
        )
        .join(ContentType, ContentType.id == ContentItem.content_type_id)
        .where(ContentItem.course_id == course_id)
        .order_by(ContentItem.module_id, ContentItem.sequence_index, ContentItem.id)
    )
    return (await session.execute(stmt)).all()


# The course tree's one statement, in the driver's own SQL: both lists in ONE round trip (a UNION ALL told apart
# by a leading kind column, 0 = module, 1 = item), sorted by PostgreSQL the way the tree is built (modules by
# parent — the root first — then sibling order; items by module then sibling order). Run on the session's own
# asyncpg connection, in its transaction (db/driver.py): for a 10,000-item course, SQLAlchemy's result processing of
# 12,000 rows cost more than the query itself (the bench's tree scenario).
_TREE_SQL = """
SELECT 0 AS kind, m.id, m.parent_module_id AS owner, m.title, m.description, m.module_type::text, m.sequence_index,
       m.depth, m.is_published, NULL::integer AS content_type_id, NULL::integer AS duration
  FROM modules m WHERE m.course_id = $1
UNION ALL
SELECT 1, ci.id, ci.module_id, ci.title, NULL, ct.name, ci.sequence_index, NULL, NULL, ci.content_type_id,
       ci.estimated_duration_seconds
  FROM content_items ci JOIN content_types ct ON ct.id = ci.content_type_id WHERE ci.course_id = $1
ORDER BY kind, owner NULLS FIRST, sequence_index, id
"""


async def course_tree_rows(
    session: AsyncSession, course_id: int
) -> tuple[Sequence[Sequence[Any]], Sequence[Sequence[Any]]]:
    """The course's module rows (id, parent_module_id, title, description, module_type, sequence_index, depth,
    is_published) and item summary rows (id, module_id, title, content type name, content_type_id,
    sequence_index, duration), each list in tree order, in ONE round trip."""
    rows = await driver_fetch(session, _TREE_SQL, course_id)
    split = next((i for i, r in enumerate(rows) if r[0] == 1), len(rows))
    module_rows = [r[1:9] for r in rows[:split]]
    item_rows = [(r[1], r[2], r[3], r[5], r[9], r[6], r[10]) for r in rows[split:]]
    return module_rows, item_rows


def module_items_query(module_id: int) -> Select[ContentItem]:
    return (
        select(ContentItem)
        .where(ContentItem.module_id == module_id)
        .order_by(ContentItem.sequence_index, ContentItem.id)
    )
