"""Assessments: the quiz item an enrolled student attempts, and the item whose statistics the offering's staff read.

Who may attempt is who may write progress (authz/access/progress.py, WRITING: an ACTIVE enrolment, not suspended
in the university); who may read their own attempts is who may read their progress (READING). The item must be one
of the offering's course, and for a student its module path must be published, like every read of content
(authz/access/content.py): anything else is 404, as if it did not exist. The gradebook's staff are those who read
the offering's progress views (`staff_offering`); they see items of any publication state.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.assessments import repository as repo
from twosigma.authz.access.progress import Participation
from twosigma.content import repository as content_repo
from twosigma.content.models import ContentItem
from twosigma.courses.models import CourseOffering
from twosigma.kit.errors import not_found


@dataclass(frozen=True)
class StudentItem:
    """An item of the offering's course that the enrolled caller may read, and their enrolment."""

    part: Participation
    item: ContentItem
    gradable: bool


@dataclass(frozen=True)
class StaffItem:
    """An item of the offering's course, for the offering's staff."""

    offering: CourseOffering
    item: ContentItem
    gradable: bool


async def student_item(session: AsyncSession, part: Participation, content_item_id: int) -> StudentItem:
    found = await repo.item_in_course(session, content_item_id, part.offering.course_id)
    if found is None or not await content_repo.path_published(session, found.item.module_id):
        raise not_found("Content item")
    return StudentItem(part, found.item, found.gradable)


async def staff_item(session: AsyncSession, offering: CourseOffering, content_item_id: int) -> StaffItem:
    found = await repo.item_in_course(session, content_item_id, offering.course_id)
    if found is None:
        raise not_found("Content item")
    return StaffItem(offering, found.item, found.gradable)
