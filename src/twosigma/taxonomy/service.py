"""Business rules of the taxonomy: unique names, one domain per subject tree, no cycles, no orphaned courses."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.kit.errors import Conflict, Invalid, not_found
from twosigma.kit.pagination import PageParams, PageResult, paginate
from twosigma.taxonomy import repository as repo
from twosigma.taxonomy.models import ContentType, Domain, Subject
from twosigma.taxonomy.schemas import (
    ContentTypeCreate,
    ContentTypeUpdate,
    DomainCreate,
    DomainUpdate,
    SubjectCreate,
    SubjectNode,
    SubjectUpdate,
)

T = TypeVar("T")

# A subject tree deeper than this is a modelling mistake, and nesting it would exhaust the serializer's depth.
MAX_SUBJECT_DEPTH = 16


async def _guarded(session: AsyncSession, work: Callable[[], Awaitable[T]], conflict: Conflict) -> T:
    """Run a write in a SAVEPOINT; a constraint violation that slipped past the checks (a race) becomes 409."""
    try:
        async with session.begin_nested():
            result = await work()
            await session.flush()
            return result
    except IntegrityError as exc:
        raise conflict from exc


# --- domains ---------------------------------------------------------------------------------------------------


def _domain_exists(name: str) -> Conflict:
    return Conflict(f"A domain named {name!r} already exists.", code="domain_exists")


async def list_domains(session: AsyncSession, params: PageParams, q: str | None) -> PageResult[Domain]:
    return await paginate(session, repo.domains_query(q), params)


async def get_domain(session: AsyncSession, domain_id: int) -> Domain:
    domain = await repo.get_domain(session, domain_id)
    if domain is None:
        raise not_found("Domain")
    return domain


async def create_domain(session: AsyncSession, data: DomainCreate) -> Domain:
    if await repo.domain_name_taken(session, data.name):
        raise _domain_exists(data.name)
    domain = Domain(name=data.name)

    async def add() -> Domain:
        session.add(domain)
        return domain

    return await _guarded(session, add, _domain_exists(data.name))


async def update_domain(session: AsyncSession, domain: Domain, data: DomainUpdate) -> Domain:
    changes = data.changes()
    name = changes.get("name")
    if name is not None and name != domain.name:
        if await repo.domain_name_taken(session, name, exclude_id=domain.id):
            raise _domain_exists(name)

        async def rename() -> Domain:
            domain.name = name
            return domain

        await _guarded(session, rename, _domain_exists(name))
    return domain


def _domain_in_use(count: int | None) -> Conflict:
    return Conflict(
        "Courses use subjects of this domain as their primary subject; move them first.",
        code="domain_in_use",
        details={"course_count": count} if count else None,
    )


async def delete_domain(session: AsyncSession, domain: Domain) -> None:
    """Deleting a domain deletes its subjects (FK cascade), unless a course depends on one of them."""
    count = await repo.count_courses_in_domain(session, domain.id)
    if count:
        raise _domain_in_use(count)

    async def drop() -> None:
        await repo.delete_domain(session, domain.id)

    await _guarded(session, drop, _domain_in_use(None))


# --- subjects --------------------------------------------------------------------------------------------------


async def list_subjects(
    session: AsyncSession,
    params: PageParams,
    *,
    domain_id: int | None,
    parent_subject_id: int | None,
    root_only: bool,
    q: str | None,
) -> PageResult[Subject]:
    if root_only and parent_subject_id is not None:
        raise Invalid("Use either root_only or parent_subject_id, not both.", code="conflicting_filters")
    stmt = repo.subjects_query(domain_id=domain_id, parent_subject_id=parent_subject_id, root_only=root_only, q=q)
    return await paginate(session, stmt, params)


def build_tree(subjects: Sequence[Subject]) -> list[SubjectNode]:
    """Nest a flat, already ordered list. Children keep the list's order; a subject whose parent is not in the
    list (it can't happen within one domain, but be safe) is shown as a root rather than dropped."""
    nodes = {
        s.id: SubjectNode(
            id=s.id, name=s.name, domain_id=s.domain_id, parent_subject_id=s.parent_subject_id, children=[]
        )
        for s in subjects
    }
    roots: list[SubjectNode] = []
    for s in subjects:
        node = nodes[s.id]
        parent = nodes.get(s.parent_subject_id) if s.parent_subject_id is not None else None
        if parent is None:
            roots.append(node)
        else:
            parent.children.append(node)
    return roots


async def subject_tree(session: AsyncSession, domain_id: int | None) -> list[SubjectNode]:
    return build_tree(await repo.list_subjects_for_tree(session, domain_id))


async def get_subject(session: AsyncSession, subject_id: int) -> Subject:
    subject = await repo.get_subject(session, subject_id)
    if subject is None:
        raise not_found("Subject")
    return subject


def _subject_exists(name: str) -> Conflict:
    return Conflict(f"A subject named {name!r} already exists at this place in the tree.", code="subject_exists")


async def _require_domain(session: AsyncSession, domain_id: int) -> Domain:
    domain = await repo.get_domain(session, domain_id)
    if domain is None:
        raise Invalid("The domain does not exist.", code="domain_not_found", details={"domain_id": domain_id})
    return domain


async def _require_parent(session: AsyncSession, parent_id: int, domain_id: int) -> Subject:
    parent = await repo.get_subject(session, parent_id)
    if parent is None:
        raise Invalid(
            "The parent subject does not exist.",
            code="parent_subject_not_found",
            details={"parent_subject_id": parent_id},
        )
    if parent.domain_id != domain_id:
        raise Invalid(
            "The parent subject belongs to another domain.",
            code="parent_subject_domain_mismatch",
            details={"parent_subject_id": parent_id, "domain_id": domain_id, "parent_domain_id": parent.domain_id},
        )
    return parent


async def _ensure_depth(session: AsyncSession, parent_id: int, *, subtree_height: int) -> None:
    """Placing a subtree of `subtree_height` levels under `parent_id` must keep the tree within the limit."""
    depth = await repo.depth_of(session, parent_id, cap=MAX_SUBJECT_DEPTH + 1) + subtree_height
    if depth > MAX_SUBJECT_DEPTH:
        raise Invalid(
            f"Subjects nest at most {MAX_SUBJECT_DEPTH} levels deep.",
            code="subject_too_deep",
            details={"max_depth": MAX_SUBJECT_DEPTH},
        )


async def create_subject(session: AsyncSession, data: SubjectCreate) -> Subject:
    await _require_domain(session, data.domain_id)
    if data.parent_subject_id is not None:
        await _require_parent(session, data.parent_subject_id, data.domain_id)
        await _ensure_depth(session, data.parent_subject_id, subtree_height=1)
    if await repo.sibling_name_taken(
        session, domain_id=data.domain_id, parent_subject_id=data.parent_subject_id, name=data.name
    ):
        raise _subject_exists(data.name)
    subject = Subject(domain_id=data.domain_id, parent_subject_id=data.parent_subject_id, name=data.name)

    async def add() -> Subject:
        session.add(subject)
        return subject

    # The parent or domain may vanish between the check and the insert: the FK violation is then a conflict.
    return await _guarded(session, add, Conflict("The domain or parent subject changed meanwhile; try again."))


async def update_subject(session: AsyncSession, subject: Subject, data: SubjectUpdate) -> Subject:
    changes: dict[str, Any] = data.changes()
    name: str = changes.get("name", subject.name)
    domain_id: int = changes.get("domain_id", subject.domain_id)
    parent_id: int | None = changes.get("parent_subject_id", subject.parent_subject_id)
    moved_domain = domain_id != subject.domain_id
    reparented = parent_id != subject.parent_subject_id

    if moved_domain:
        await _require_domain(session, domain_id)
    if parent_id is not None and (reparented or moved_domain):
        if parent_id == subject.id or await repo.is_in_subtree(session, subject.id, parent_id):
            raise Conflict(
                "A subject cannot be placed under itself or one of its descendants.",
                code="subject_cycle",
                details={"subject_id": subject.id, "parent_subject_id": parent_id},
            )
        await _require_parent(session, parent_id, domain_id)
        if reparented:
            height = await repo.subtree_height(session, subject.id, cap=MAX_SUBJECT_DEPTH + 1)
            await _ensure_depth(session, parent_id, subtree_height=height)
    renamed = name.lower() != subject.name.lower()
    if (renamed or reparented or moved_domain) and await repo.sibling_name_taken(
        session, domain_id=domain_id, parent_subject_id=parent_id, name=name, exclude_id=subject.id
    ):
        raise _subject_exists(name)

    async def apply() -> Subject:
        if moved_domain:
            await repo.move_subtree_to_domain(session, subject.id, domain_id)
        subject.name = name
        subject.domain_id = domain_id
        subject.parent_subject_id = parent_id
        return subject

    return await _guarded(session, apply, Conflict("The subject tree changed meanwhile; try again."))


def _subject_in_use(count: int | None) -> Conflict:
    return Conflict(
        "Courses use this subject or one of its descendants as their primary subject; move them first.",
        code="subject_in_use",
        details={"course_count": count} if count else None,
    )


async def delete_subject(session: AsyncSession, subject: Subject) -> None:
    """Deleting a subject deletes its descendants (FK cascade), unless a course depends on one of them."""
    count = await repo.count_courses_in_subtree(session, subject.id)
    if count:
        raise _subject_in_use(count)

    async def drop() -> None:
        await repo.delete_subject(session, subject.id)

    await _guarded(session, drop, _subject_in_use(None))


# --- content types ---------------------------------------------------------------------------------------------


def _content_type_exists(name: str) -> Conflict:
    return Conflict(f"A content type named {name!r} already exists.", code="content_type_exists")


async def list_content_types(
    session: AsyncSession, params: PageParams, *, include_inactive: bool
) -> PageResult[ContentType]:
    return await paginate(session, repo.content_types_query(include_inactive=include_inactive), params)


async def get_content_type(session: AsyncSession, content_type_id: int) -> ContentType:
    content_type = await repo.get_content_type(session, content_type_id)
    if content_type is None:
        raise not_found("Content type", code="content_type_not_found")
    return content_type


async def get_active_content_type(session: AsyncSession, content_type_id: int) -> ContentType:
    """For new or retyped content: the type must exist (404 `content_type_not_found`) and be active
    (422 `content_type_inactive`). Existing items keep an inactive type; only new choices are refused."""
    content_type = await get_content_type(session, content_type_id)
    if not content_type.is_active:
        raise Invalid(
            f"The content type {content_type.name!r} is no longer offered for new content.",
            code="content_type_inactive",
            details={"content_type_id": content_type.id},
        )
    return content_type


async def create_content_type(session: AsyncSession, data: ContentTypeCreate) -> ContentType:
    if await repo.content_type_name_taken(session, data.name):
        raise _content_type_exists(data.name)
    content_type = ContentType(**data.model_dump())

    async def add() -> ContentType:
        session.add(content_type)
        return content_type

    return await _guarded(session, add, _content_type_exists(data.name))


async def update_content_type(session: AsyncSession, content_type: ContentType, data: ContentTypeUpdate) -> ContentType:
    """Turning `gradable` on is always allowed (existing items are then read through the student view; the next
    write of one is validated). Turning it off while items use the type is refused: their answer keys would be
    served to every student, and their grades would stop meaning anything."""
    changes = data.changes()
    name = changes.get("name")
    if name is not None and name != content_type.name:
        if await repo.content_type_name_taken(session, name, exclude_id=content_type.id):
            raise _content_type_exists(name)
    if content_type.gradable and changes.get("gradable") is False:
        count = await repo.count_content_items_of_type(session, content_type.id)
        if count:
            raise Conflict(
                "Content items of this type hold quizzes and their answer keys; it stays gradable while they exist.",
                code="gradable_type_in_use",
                details={"content_item_count": count},
            )

    async def apply() -> ContentType:
        for field, value in changes.items():
            setattr(content_type, field, value)
        return content_type

    return await _guarded(session, apply, _content_type_exists(name or content_type.name))


def _content_type_in_use(count: int | None) -> Conflict:
    return Conflict(
        "Content items use this content type; deactivate it instead (PATCH is_active=false).",
        code="content_type_in_use",
        details={"content_item_count": count} if count else None,
    )


async def delete_content_type(session: AsyncSession, content_type: ContentType) -> None:
    count = await repo.count_content_items_of_type(session, content_type.id)
    if count:
        raise _content_type_in_use(count)

    async def drop() -> None:
        await repo.delete_content_type(session, content_type.id)

    await _guarded(session, drop, _content_type_in_use(None))


async def gradable_type_ids(session: AsyncSession, content_type_ids: Iterable[int]) -> frozenset[int]:
    """Which of these content types are gradable (one query; none for no ids)."""
    wanted = set(content_type_ids)
    if not wanted:
        return frozenset()
    return frozenset(await repo.gradable_among(session, wanted))


async def gradable_type_names(session: AsyncSession) -> frozenset[str]:
    """The names of every gradable content type (a handful; one query)."""
    return frozenset(await repo.gradable_names(session))
