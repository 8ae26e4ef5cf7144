"""Every taxonomy query. Nothing here decides policy; the service does."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Select, delete, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.content.models import ContentItem
from twosigma.courses.models import Course
from twosigma.taxonomy.models import ContentType, Domain, Subject


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _contains(column: Any, q: str) -> Any:
    return column.ilike(f"%{_escape_like(q)}%", escape="\\")


# --- domains ---------------------------------------------------------------------------------------------------


def domains_query(q: str | None) -> Select[Domain]:
    stmt = select(Domain).order_by(Domain.name, Domain.id)
    if q:
        stmt = stmt.where(_contains(Domain.name, q))
    return stmt


async def get_domain(session: AsyncSession, domain_id: int) -> Domain | None:
    return await session.get(Domain, domain_id)


async def domain_name_taken(session: AsyncSession, name: str, *, exclude_id: int | None = None) -> bool:
    stmt = select(Domain.id).where(func.lower(Domain.name) == name.lower())
    if exclude_id is not None:
        stmt = stmt.where(Domain.id != exclude_id)
    return (await session.scalar(stmt.limit(1))) is not None


async def count_courses_in_domain(session: AsyncSession, domain_id: int) -> int:
    """Courses whose primary subject belongs to the domain (the FK is RESTRICT, so these block a delete)."""
    stmt = (
        select(func.count())
        .select_from(Course)
        .join(Subject, Subject.id == Course.primary_subject_id)
        .where(Subject.domain_id == domain_id)
    )
    return int(await session.scalar(stmt) or 0)


async def delete_domain(session: AsyncSession, domain_id: int) -> None:
    await session.execute(delete(Domain).where(Domain.id == domain_id))


# --- subjects --------------------------------------------------------------------------------------------------


def subjects_query(
    *,
    domain_id: int | None,
    parent_subject_id: int | None,
    root_only: bool,
    q: str | None,
) -> Select[Subject]:
    stmt = select(Subject).order_by(Subject.name, Subject.id)
    if domain_id is not None:
        stmt = stmt.where(Subject.domain_id == domain_id)
    if parent_subject_id is not None:
        stmt = stmt.where(Subject.parent_subject_id == parent_subject_id)
    if root_only:
        stmt = stmt.where(Subject.parent_subject_id.is_(None))
    if q:
        stmt = stmt.where(_contains(Subject.name, q))
    return stmt


async def list_subjects_for_tree(session: AsyncSession, domain_id: int | None) -> Sequence[Subject]:
    """All subjects (of one domain, or all) in ONE query; the caller nests them in memory."""
    stmt = select(Subject).order_by(Subject.name, Subject.id)
    if domain_id is not None:
        stmt = stmt.where(Subject.domain_id == domain_id)
    return (await session.scalars(stmt)).all()


async def get_subject(session: AsyncSession, subject_id: int) -> Subject | None:
    return await session.get(Subject, subject_id)


async def sibling_name_taken(
    session: AsyncSession,
    *,
    domain_id: int,
    parent_subject_id: int | None,
    name: str,
    exclude_id: int | None = None,
) -> bool:
    stmt = select(Subject.id).where(Subject.domain_id == domain_id, func.lower(Subject.name) == name.lower())
    if parent_subject_id is None:
        stmt = stmt.where(Subject.parent_subject_id.is_(None))
    else:
        stmt = stmt.where(Subject.parent_subject_id == parent_subject_id)
    if exclude_id is not None:
        stmt = stmt.where(Subject.id != exclude_id)
    return (await session.scalar(stmt.limit(1))) is not None


def _subtree_ids(subject_id: int) -> Any:
    """A recursive CTE of the subject and all its descendants.

    UNION (not UNION ALL) so the walk terminates even if the table ever held a cycle.
    """
    tree = select(Subject.id).where(Subject.id == subject_id).cte("subtree", recursive=True)
    tree = tree.union(select(Subject.id).join(tree, Subject.parent_subject_id == tree.c.id))
    return tree


async def is_in_subtree(session: AsyncSession, root_id: int, candidate_id: int) -> bool:
    """Is `candidate_id` the subject `root_id` itself or one of its descendants?"""
    tree = _subtree_ids(root_id)
    stmt = select(tree.c.id).where(tree.c.id == candidate_id).limit(1)
    return (await session.scalar(stmt)) is not None


async def depth_of(session: AsyncSession, subject_id: int, *, cap: int) -> int:
    """Levels from the top of the tree down to this subject (a top-level subject is 1), counted up to `cap`."""
    chain = (
        select(Subject.parent_subject_id.label("parent_id"), literal(1).label("level"))
        .where(Subject.id == subject_id)
        .cte("ancestry", recursive=True)
    )
    chain = chain.union_all(
        select(Subject.parent_subject_id, chain.c.level + 1)
        .join(chain, Subject.id == chain.c.parent_id)
        .where(chain.c.level < cap)
    )
    return int(await session.scalar(select(func.max(chain.c.level))) or 0)


async def subtree_height(session: AsyncSession, subject_id: int, *, cap: int) -> int:
    """Levels in the subtree rooted at this subject (a leaf is 1), counted up to `cap`."""
    tree = (
        select(Subject.id.label("id"), literal(1).label("level"))
        .where(Subject.id == subject_id)
        .cte("heights", recursive=True)
    )
    tree = tree.union_all(
        select(Subject.id, tree.c.level + 1)
        .join(tree, Subject.parent_subject_id == tree.c.id)
        .where(tree.c.level < cap)
    )
    return int(await session.scalar(select(func.max(tree.c.level))) or 0)


async def move_subtree_to_domain(session: AsyncSession, subject_id: int, domain_id: int) -> None:
    """Descendants live in their ancestor's domain, so a subject changing domain takes its subtree along."""
    tree = _subtree_ids(subject_id)
    await session.execute(
        update(Subject)
        .where(Subject.id.in_(select(tree.c.id)))
        .values(domain_id=domain_id)
        .execution_options(synchronize_session="fetch")
    )


async def count_courses_in_subtree(session: AsyncSession, subject_id: int) -> int:
    tree = _subtree_ids(subject_id)
    stmt = select(func.count()).select_from(Course).where(Course.primary_subject_id.in_(select(tree.c.id)))
    return int(await session.scalar(stmt) or 0)


async def delete_subject(session: AsyncSession, subject_id: int) -> None:
    await session.execute(delete(Subject).where(Subject.id == subject_id))


# --- content types ---------------------------------------------------------------------------------------------


def content_types_query(*, include_inactive: bool) -> Select[ContentType]:
    stmt = select(ContentType).order_by(ContentType.name, ContentType.id)
    if not include_inactive:
        stmt = stmt.where(ContentType.is_active.is_(True))
    return stmt


async def get_content_type(session: AsyncSession, content_type_id: int) -> ContentType | None:
    return await session.get(ContentType, content_type_id)


async def content_type_name_taken(session: AsyncSession, name: str, *, exclude_id: int | None = None) -> bool:
    stmt = select(ContentType.id).where(ContentType.name == name)
    if exclude_id is not None:
        stmt = stmt.where(ContentType.id != exclude_id)
    return (await session.scalar(stmt.limit(1))) is not None


async def count_content_items_of_type(session: AsyncSession, content_type_id: int) -> int:
    stmt = select(func.count()).select_from(ContentItem).where(ContentItem.content_type_id == content_type_id)
    return int(await session.scalar(stmt) or 0)


async def delete_content_type(session: AsyncSession, content_type_id: int) -> None:
    await session.execute(delete(ContentType).where(ContentType.id == content_type_id))


async def gradable_among(session: AsyncSession, content_type_ids: Iterable[int]) -> Sequence[int]:
    stmt = select(ContentType.id).where(ContentType.id.in_(list(content_type_ids)), ContentType.gradable.is_(True))
    return (await session.scalars(stmt)).all()


async def gradable_names(session: AsyncSession) -> Sequence[str]:
    return (await session.scalars(select(ContentType.name).where(ContentType.gradable.is_(True)))).all()


async def lock_content_type_name(session: AsyncSession, name: str) -> None:
    """Serialize the installs of a built-in type until the transaction ends (two servers starting at once)."""
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtext(literal(f"content_type:{name}")))))


async def content_type_by_name(session: AsyncSession, name: str) -> ContentType | None:
    return (await session.scalars(select(ContentType).where(ContentType.name == name))).one_or_none()
