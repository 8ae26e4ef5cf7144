"""HTTP routes for the module tree and content items."""

from __future__ import annotations

from typing import Any

from fastapi import Response, status

from twosigma.content.dependencies import (
    EditableItem,
    EditableModule,
    ReadableCourseContent,
    ReadableItem,
    ReadableModule,
    TreeCacheDep,
)
from twosigma.content.models import ContentItem, Module
from twosigma.content.schemas import (
    ContentItemCreate,
    ContentItemMove,
    ContentItemRead,
    ContentItemUpdate,
    CourseTree,
    ModuleCreate,
    ModuleMove,
    ModuleRead,
    ModuleUpdate,
)
from twosigma.content.services import items as item_service
from twosigma.content.services import modules as service
from twosigma.courses.dependencies import EditableCourse
from twosigma.db.session import DbSession
from twosigma.kit.pagination import Page, Pagination
from twosigma.kit.routing import APIRouter
from twosigma.kit.schemas import error_responses
from twosigma.system_settings.dependencies import Effective

router = APIRouter(tags=["content"])

_READ = error_responses(401, 403, 404, 422)
_WRITE = error_responses(401, 403, 404, 409, 422)
_ITEM_WRITE = error_responses(401, 403, 404, 409, 413, 422)


@router.get("/courses/{course_id}/tree", response_model=CourseTree, responses=_READ)
async def get_course_tree(
    session: DbSession, access: ReadableCourseContent, cache: TreeCacheDep, effective: Effective
) -> Response:
    """`tutor_enabled`: whether the tutor policy lets the course's students chat now (a client hides the button)."""
    return Response(await service.course_tree(session, access, cache, effective), media_type="application/json")


@router.post("/courses/{course_id}/modules", response_model=ModuleRead, status_code=201, responses=_WRITE)
async def create_module(session: DbSession, course: EditableCourse, body: ModuleCreate) -> Module:
    return await service.create_module(session, course, body)


@router.get("/modules/{module_id}", response_model=ModuleRead, responses=_READ)
async def get_module(access: ReadableModule) -> Module:
    return access.module


@router.patch("/modules/{module_id}", response_model=ModuleRead, responses=_WRITE)
async def update_module(session: DbSession, module: EditableModule, body: ModuleUpdate) -> Module:
    return await service.update_module(session, module, body)


@router.delete("/modules/{module_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_WRITE)
async def delete_module(session: DbSession, module: EditableModule) -> Response:
    await service.delete_module(session, module)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/modules/{module_id}/move", response_model=ModuleRead, responses=_WRITE)
async def move_module(session: DbSession, module: EditableModule, body: ModuleMove) -> Module:
    return await service.move_module(session, module, body)


@router.get("/modules/{module_id}/content-items", response_model=Page[ContentItemRead], responses=_READ)
async def list_content_items(session: DbSession, access: ReadableModule, params: Pagination) -> dict[str, Any]:
    """Items of a gradable type come without their answer keys unless the caller may edit the course."""
    return (await item_service.list_items(session, access, params)).as_dict()


@router.post(
    "/modules/{module_id}/content-items", response_model=ContentItemRead, status_code=201, responses=_ITEM_WRITE
)
async def create_content_item(session: DbSession, module: EditableModule, body: ContentItemCreate) -> ContentItem:
    return await item_service.create_item(session, module, body)


@router.get("/content-items/{content_item_id}", response_model=ContentItemRead, responses=_READ)
async def get_content_item(session: DbSession, access: ReadableItem) -> ContentItemRead:
    """An item of a gradable type comes without its answer keys unless the caller may edit the course."""
    return await item_service.read_item(session, access)


@router.patch("/content-items/{content_item_id}", response_model=ContentItemRead, responses=_ITEM_WRITE)
async def update_content_item(session: DbSession, item: EditableItem, body: ContentItemUpdate) -> ContentItem:
    return await item_service.update_item(session, item, body)


@router.delete("/content-items/{content_item_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_WRITE)
async def delete_content_item(session: DbSession, item: EditableItem) -> Response:
    await item_service.delete_item(session, item)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/content-items/{content_item_id}/move", response_model=ContentItemRead, responses=_WRITE)
async def move_content_item(session: DbSession, item: EditableItem, body: ContentItemMove) -> ContentItem:
    return await item_service.move_item(session, item, body)
