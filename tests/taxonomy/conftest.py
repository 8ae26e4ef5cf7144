"""Callers and dependants shared by the taxonomy tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.factories import auth_headers, make_member, make_university, unique
from twosigma.config import Settings
from twosigma.content.models import ContentItem, Module
from twosigma.courses.models import Course
from twosigma.enums import ModuleType, UserRole
from twosigma.taxonomy.models import ContentType, Subject
from twosigma.tenancy.models import University

Headers = dict[str, str]


@pytest.fixture
async def university(db: AsyncSession) -> University:
    return await make_university(db)


@pytest.fixture
async def admin_headers(db: AsyncSession, settings: Settings, university: University) -> Headers:
    """A platform administrator."""
    return auth_headers(settings, await make_member(db, university, UserRole.PLATFORM_ADMIN))


@pytest.fixture
async def university_admin_headers(db: AsyncSession, settings: Settings, university: University) -> Headers:
    """Powerful inside a university, but not over the platform-wide taxonomy."""
    return auth_headers(settings, await make_member(db, university, UserRole.UNIVERSITY_ADMIN))


@pytest.fixture
def course_on(db: AsyncSession, university: University) -> Callable[[Subject], Awaitable[Course]]:
    """Make a course whose primary subject is the given one."""

    async def make(subject: Subject) -> Course:
        course = Course(university_id=university.id, primary_subject_id=subject.id, title="Course", code=unique("C"))
        db.add(course)
        await db.flush()
        return course

    return make


@pytest.fixture
def content_item_of(
    db: AsyncSession, course_on: Callable[[Subject], Awaitable[Course]]
) -> Callable[[ContentType, Subject], Awaitable[ContentItem]]:
    """Make a content item of the given type, in a new course on the given subject."""

    async def make(content_type: ContentType, subject: Subject) -> ContentItem:
        course = await course_on(subject)
        root = Module(course_id=course.id, title="Root", module_type=ModuleType.COURSE_ROOT)
        db.add(root)
        await db.flush()
        item = ContentItem(module_id=root.id, course_id=course.id, content_type_id=content_type.id, title="Item")
        db.add(item)
        await db.flush()
        return item

    return make
