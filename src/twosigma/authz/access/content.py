"""Reading and writing a course's modules and content items: the loaders return the permitted resource or raise.

Reading (SPEC "Modules and content"): staff of the course's university see everything; otherwise the course must be
published, the caller needs an ACTIVE or COMPLETED enrolment in one of its offerings, and the module (with every
ancestor) must be published — an unpublished path is 404, as if it did not exist. Writing needs can_edit_course;
a non-editor is first put through the read rules, so a refusal never reveals what they could not read.

Each access also says whether the reader may read a gradable item's answer keys (`answer_keys`: they may edit the
course); `assessments/views.py` `item_data_for` turns that into the item data they receive.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.authz.policy import (
    can_edit_course,
    can_read_answer_keys,
    can_read_course_content,
    ensure,
    ensure_visible,
    sees_unpublished_content,
)
from twosigma.authz.principal import Principal
from twosigma.content import repository as repo
from twosigma.content.models import ContentItem, Module
from twosigma.courses.models import Course
from twosigma.enrollments import repository as enrollments_repo
from twosigma.kit.errors import Forbidden, not_found


@dataclass(frozen=True)
class CourseAccess:
    course: Course
    staff_view: bool  # sees unpublished modules
    # Reads gradable items whole, answer keys included (may edit the course); otherwise their student view
    # (assessments/views.py item_data_for).
    answer_keys: bool = False


@dataclass(frozen=True)
class ModuleAccess:
    module: Module
    course: Course
    staff_view: bool
    answer_keys: bool = False


@dataclass(frozen=True)
class ItemAccess:
    item: ContentItem
    course: Course
    staff_view: bool
    answer_keys: bool = False


async def course_access(session: AsyncSession, principal: Principal, course: Course) -> CourseAccess:
    """The content of `course` (visible to the caller) as they may read it, or the refusal."""
    if sees_unpublished_content(principal, course.university_id):
        keys = can_read_answer_keys(principal, course.university_id, course.department_id)
        return CourseAccess(course, staff_view=True, answer_keys=keys)
    ensure_visible(course.is_published, resource="Course")
    enrolled = await enrollments_repo.reads_course(session, principal.id, course.id)
    allowed = can_read_course_content(
        principal, course.university_id, course_published=course.is_published, enrolled=enrolled
    )
    ensure(allowed, principal, course.university_id, resource="Course")
    return CourseAccess(course, staff_view=False)


async def _module_access(session: AsyncSession, principal: Principal, module: Module, course: Course) -> ModuleAccess:
    access = await course_access(session, principal, course)
    if not access.staff_view:
        ensure_visible(await repo.path_published(session, module.id), resource="Module")
    return ModuleAccess(module, course, access.staff_view, access.answer_keys)


async def _load_module(session: AsyncSession, module_id: int) -> Module:
    module = await repo.get_module_with_course(session, module_id)
    if module is None:
        raise not_found("Module")
    return module


async def readable_module(session: AsyncSession, principal: Principal, module_id: int) -> ModuleAccess:
    module = await _load_module(session, module_id)
    return await _module_access(session, principal, module, module.course)


async def editable_module(session: AsyncSession, principal: Principal, module_id: int) -> Module:
    module = await _load_module(session, module_id)
    course = module.course
    if not can_edit_course(principal, course.university_id, course.department_id):
        await _module_access(session, principal, module, course)
        raise Forbidden()
    return module


async def _load_item(session: AsyncSession, item_id: int) -> tuple[ContentItem, Course]:
    found = await repo.get_item_with_course(session, item_id)
    if found is None:
        raise not_found("Content item")
    return found


async def _item_access(session: AsyncSession, principal: Principal, item: ContentItem, course: Course) -> ItemAccess:
    access = await course_access(session, principal, course)
    if not access.staff_view:
        ensure_visible(await repo.path_published(session, item.module_id), resource="Content item")
    return ItemAccess(item, course, access.staff_view, access.answer_keys)


async def readable_item(session: AsyncSession, principal: Principal, content_item_id: int) -> ItemAccess:
    item, course = await _load_item(session, content_item_id)
    return await _item_access(session, principal, item, course)


async def editable_item(session: AsyncSession, principal: Principal, content_item_id: int) -> ContentItem:
    item, course = await _load_item(session, content_item_id)
    if not can_edit_course(principal, course.university_id, course.department_id):
        await _item_access(session, principal, item, course)
        raise Forbidden()
    return item
