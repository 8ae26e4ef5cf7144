"""Content item rules: create, edit, delete and move items, keeping each module's items contiguous 0..n-1.

Items of a gradable content type hold a quiz: every write that sets their data or moves them to a gradable type is
checked by `assessments.quiz.parse_quiz` (422 naming the question and field), and every read goes through
`assessments.views.item_data_for`, so that a reader who may not edit the course never receives the answer keys.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.assessments import repository as assessments_repo
from twosigma.assessments.quiz import parse_quiz, student_view
from twosigma.assessments.views import item_data_for
from twosigma.authz.access.content import ItemAccess, ModuleAccess
from twosigma.content import repository as repo
from twosigma.content.models import ContentItem, Module
from twosigma.content.schemas import (
    MAX_DATA_JSON_BYTES,
    ContentItemCreate,
    ContentItemMove,
    ContentItemRead,
    ContentItemUpdate,
)
from twosigma.content.services.modules import out_of_range
from twosigma.kit.errors import Conflict, Invalid, PayloadTooLarge
from twosigma.kit.pagination import PageParams, PageResult, paginate
from twosigma.retrieval.services import indexing
from twosigma.taxonomy import service as taxonomy_service
from twosigma.taxonomy.models import ContentType
from twosigma.taxonomy.service import get_active_content_type


def check_data_json_size(data: dict[str, Any]) -> None:
    """Measured as compact UTF-8 JSON, the way it is stored and served."""
    size = len(json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    if size > MAX_DATA_JSON_BYTES:
        raise PayloadTooLarge(
            f"data_json is {size} bytes; the limit is {MAX_DATA_JSON_BYTES} bytes (256 KiB).",
            details={"max_bytes": MAX_DATA_JSON_BYTES, "bytes": size},
        )


# --- Reading: the item as this reader may see it -------------------------------------------------------------------


def _as_read(item: ContentItem, *, gradable: bool, answer_keys: bool) -> ContentItemRead:
    read = ContentItemRead.model_validate(item)
    data = item_data_for(item.data_json, gradable=gradable, answer_keys=answer_keys)
    return read if data is item.data_json else read.model_copy(update={"data_json": data})


async def _gradable(session: AsyncSession, items: list[ContentItem], answer_keys: bool) -> frozenset[int]:
    """The gradable types among the items' (not asked when the reader reads the keys anyway)."""
    if answer_keys:
        return frozenset()
    return await taxonomy_service.gradable_type_ids(session, {item.content_type_id for item in items})


async def read_item(session: AsyncSession, access: ItemAccess) -> ContentItemRead:
    gradable = await _gradable(session, [access.item], access.answer_keys)
    item = access.item
    return _as_read(item, gradable=item.content_type_id in gradable, answer_keys=access.answer_keys)


async def list_items(session: AsyncSession, access: ModuleAccess, params: PageParams) -> PageResult[ContentItemRead]:
    page: PageResult[ContentItem] = await paginate(session, repo.module_items_query(access.module.id), params)
    items = list(page.items)
    gradable = await _gradable(session, items, access.answer_keys)
    reads = [
        _as_read(item, gradable=item.content_type_id in gradable, answer_keys=access.answer_keys) for item in items
    ]
    return PageResult(items=reads, page=page.page, limit=page.limit, total=page.total)


# --- Writing -------------------------------------------------------------------------------------------------------


class GradableItemInUse(Conflict):
    code = "gradable_item_in_use"
    default_message = (
        "This quiz stays of a gradable type while it has attempts or its data holds answer keys: students would read "
        "the keys and its grades would stop counting."
    )


def _check_quiz(data: dict[str, Any]) -> None:
    """Raise 422 unless `data` is a valid quiz. The item stores `data` as written (its other keys kept)."""
    parse_quiz(data)


async def create_item(session: AsyncSession, module: Module, body: ContentItemCreate) -> ContentItem:
    check_data_json_size(body.data_json)
    content_type = await get_active_content_type(session, body.content_type_id)
    if content_type.gradable:
        _check_quiz(body.data_json)
    await repo.lock_course_content(session, module.course_id)
    count = await repo.item_count(session, module.id)
    index = count if body.sequence_index is None else body.sequence_index
    if index > count:
        raise out_of_range(index, count)
    await repo.shift_items(session, module.id, index, +1, skip_id=0)
    item = ContentItem(
        module_id=module.id,
        course_id=module.course_id,  # always the module's course
        content_type_id=body.content_type_id,
        title=body.title,
        description=body.description,
        data_json=body.data_json,
        learning_objectives=body.learning_objectives,
        sequence_index=index,
        estimated_duration_seconds=body.estimated_duration_seconds,
        prompt_name=body.prompt_name,
        prompt_label=body.prompt_label,
    )
    session.add(item)
    await session.flush()
    await indexing.index_items(session, [item.id])  # the course index, in this transaction
    return item


async def update_item(session: AsyncSession, item: ContentItem, body: ContentItemUpdate) -> ContentItem:
    """A write that sets the data of an item of a gradable type, or moves an item to a gradable type (its new data,
    or the data it holds), must leave a valid quiz. Other edits (a title, a description) of a stored quiz that no
    longer parses are allowed: validation would otherwise lock staff out of the item they are fixing. Moving an item
    off a gradable type is refused while it has attempts or its data would keep a key (`_check_leaving_gradable`)."""
    changes = body.model_dump(exclude_unset=True)
    if "data_json" in changes:
        check_data_json_size(changes["data_json"])
    content_type: ContentType | None = None
    if "content_type_id" in changes and changes["content_type_id"] != item.content_type_id:
        # Keeping an existing (now inactive) type is fine; choosing one is not.
        content_type = await get_active_content_type(session, changes["content_type_id"])
        if not content_type.gradable:
            await _check_leaving_gradable(session, item, changes.get("data_json", item.data_json))
    elif "data_json" in changes:
        content_type = await taxonomy_service.get_content_type(session, item.content_type_id)
    if content_type is not None and content_type.gradable:
        _check_quiz(changes.get("data_json", item.data_json))
    for name, value in changes.items():
        setattr(item, name, value)
    await session.flush()
    await indexing.index_items(session, [item.id])
    return item


async def _check_leaving_gradable(session: AsyncSession, item: ContentItem, data: dict[str, Any]) -> None:
    """An item moving from a gradable type to one that is not: refused (409) while it has attempts (they would stop
    counting, and its progress would be the client's to set) or while the data it would hold keeps a key field or an
    explanation (every student would read it), like turning a type's own `gradable` off while items use it."""
    current = await taxonomy_service.get_content_type(session, item.content_type_id)
    if not current.gradable:
        return
    attempts = await assessments_repo.count_item_attempts(session, item.id)
    holds_keys = student_view(data) != data
    if attempts or holds_keys:
        raise GradableItemInUse(details={"attempts": attempts, "holds_answer_keys": holds_keys})


async def delete_item(session: AsyncSession, item: ContentItem) -> None:
    await repo.lock_course_content(session, item.course_id)
    await session.refresh(item)  # re-read under the lock
    module_id, index = item.module_id, item.sequence_index
    await session.delete(item)
    await session.flush()  # its chunks in the course index go with it (ON DELETE CASCADE)
    await repo.shift_items(session, module_id, index + 1, -1, skip_id=item.id)


async def move_item(session: AsyncSession, item: ContentItem, body: ContentItemMove) -> ContentItem:
    target = await repo.get_module(session, body.module_id)
    if target is None or target.course_id != item.course_id:
        raise Invalid(
            "Content items can only move to a module of the same course.",
            code="invalid_module",
            details=[{"loc": ["body", "module_id"], "msg": "not a module of this course", "type": "invalid"}],
        )
    await repo.lock_course_content(session, item.course_id)
    await session.refresh(item)  # re-read under the lock
    same_module = target.id == item.module_id
    count = await repo.item_count(session, target.id)
    maximum = count - 1 if same_module else count
    if body.sequence_index > maximum:
        raise out_of_range(body.sequence_index, maximum)
    await repo.shift_items(session, item.module_id, item.sequence_index + 1, -1, skip_id=item.id)
    await repo.shift_items(session, target.id, body.sequence_index, +1, skip_id=item.id)
    item.module_id = target.id
    item.sequence_index = body.sequence_index
    await session.flush()
    await indexing.index_items(session, [item.id])  # its module (and so its publication) may have changed
    return item
