"""Progress rules: the upsert, the roll-up to every ancestor, course completion, the streak, and the reads."""

from __future__ import annotations

import math
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.authz.access.progress import Participation
from twosigma.authz.principal import Principal
from twosigma.content import repository as content_repo
from twosigma.courses.models import CourseOffering
from twosigma.enrollments.service import complete_enrollment
from twosigma.kit.errors import Conflict, NotFound, not_found
from twosigma.kit.pagination import PageParams
from twosigma.progress import repository as repo
from twosigma.progress.schemas import (
    ContentProgressRead,
    ModuleProgressRead,
    MyProgress,
    OfferingProgress,
    ProgressUpdate,
    ProgressWriteResult,
    StudentProgressRow,
)
from twosigma.progress.tree import build_progress_tree
from twosigma.users import service as users_service


class GradedItem(Conflict):
    code = "graded_item"
    default_message = "This item is graded: its progress follows its quiz attempts and cannot be set."


async def record_progress(
    session: AsyncSession,
    principal: Principal,
    part: Participation,
    content_item_id: int,
    body: ProgressUpdate,
    now: datetime,
) -> ProgressWriteResult:
    """A progress write reported by the client: refused (409 `graded_item`) for an item of a gradable type."""
    return await _write(
        session, principal, part, content_item_id, body.progress_percent, attempt=body.attempt, graded=False, now=now
    )


def percent_of_grade(score_percent: float, passed: bool) -> int:
    """A graded item's progress after an attempt: 100 once passed, otherwise the score (floored) capped at 99, so
    only a pass completes the item. The write never lowers a percent, so the stored value is that of the best
    attempt."""
    if passed:
        return 100
    return max(0, min(99, math.floor(score_percent)))


async def record_graded_attempt(
    session: AsyncSession,
    principal: Principal,
    part: Participation,
    content_item_id: int,
    *,
    score_percent: float,
    passed: bool,
    now: datetime,
) -> ProgressWriteResult:
    """The progress write of a graded attempt (assessments): the same write as the client's, with the percent
    derived from the grade and one more attempt counted."""
    percent = percent_of_grade(score_percent, passed)
    return await _write(session, principal, part, content_item_id, percent, attempt=True, graded=True, now=now)


async def _write(
    session: AsyncSession,
    principal: Principal,
    part: Participation,
    content_item_id: int,
    percent: int,
    *,
    attempt: bool,
    graded: bool,
    now: datetime,
) -> ProgressWriteResult:
    """The one progress write: the item's upsert (never lowering its percent), the roll-up to every ancestor,
    course completion, and the streak."""
    offering = part.offering
    path = await repo.locate_and_lock(
        session, content_item_id, offering.course_id, user_id=principal.id, offering_id=offering.id
    )
    if path is None or not path.published:
        raise not_found("Content item")
    if path.gradable and not graded:
        raise GradedItem()
    item = await repo.upsert_item_progress(
        session,
        user_id=principal.id,
        offering_id=offering.id,
        item_id=content_item_id,
        percent=percent,
        attempt=attempt,
        now=now,
    )
    rolled = {
        m.module_id: m
        for m in await repo.roll_up(
            session,
            user_id=principal.id,
            offering_id=offering.id,
            course_id=offering.course_id,
            path=path,
            now=now,
        )
    }
    course_percent = rolled[path.ancestors[-1]].progress_percent
    status = part.enrollment.status
    if course_percent == 100:
        completed = await complete_enrollment(session, part.enrollment.id)
        if completed is not None:
            status = completed.status
    streak, last = await users_service.record_activity(session, principal.id, now)
    return ProgressWriteResult(
        item=ContentProgressRead(
            content_item_id=item.content_item_id,
            progress_percent=item.progress_percent,
            attempts_count=item.attempts_count,
            first_started_at=item.first_started_at,
            last_interacted_at=item.last_interacted_at,
            completed_at=item.completed_at,
        ),
        modules=[
            ModuleProgressRead(
                module_id=m, progress_percent=rolled[m].progress_percent, completed_at=rolled[m].completed_at
            )
            for m in path.ancestors
        ],
        course_progress_percent=course_percent,
        enrollment_status=status,
        current_streak_days=streak,
        last_activity_date=last,
    )


async def my_progress(session: AsyncSession, principal: Principal, part: Participation) -> MyProgress:
    """Four queries after the checks, whatever the size: modules, items, item rows, module rows."""
    course_id = part.offering.course_id
    modules = await content_repo.course_modules(session, course_id)
    items = await content_repo.course_item_summaries(session, course_id)
    progress = {r.content_item_id: r for r in await repo.item_progress(session, principal.id, part.offering.id)}
    completions = await repo.module_completions(session, principal.id, part.offering.id)
    root = build_progress_tree(modules, items, progress, completions)
    if root is None:
        raise NotFound("The course has no module tree.", code="root_missing")
    return MyProgress(
        offering_id=part.offering.id,
        course_id=course_id,
        enrollment_status=part.enrollment.status,
        progress_percent=root.progress_percent,
        root=root,
    )


async def offering_progress(session: AsyncSession, offering: CourseOffering, params: PageParams) -> OfferingProgress:
    """Three queries whatever the roster's size: totals and mean, one page, the item count."""
    total, mean = await repo.offering_progress_totals(session, offering.id, offering.course_id)
    rows = await repo.offering_progress_page(
        session, offering.id, offering.course_id, limit=params.limit, offset=params.offset
    )
    return OfferingProgress(
        items=[
            StudentProgressRow(
                enrollment_id=r.enrollment_id,
                user_id=r.user_id,
                full_name=r.full_name,
                email=r.email,
                enrollment_status=r.enrollment_status,
                progress_percent=r.progress_percent,
                completed_items=r.completed_items,
                last_activity_at=r.last_activity_at,
            )
            for r in rows
        ],
        page=params.page,
        limit=params.limit,
        total=total,
        pages=-(-total // params.limit) if total else 0,
        offering_id=offering.id,
        content_items_count=await repo.visible_item_count(session, offering.course_id),
        mean_progress_percent=round(mean, 2),
    )


# --- What the tutor knows ------------------------------------------------------------------------------------------


async def tutor_standing(
    session: AsyncSession, *, user_id: int, course_id: int, module_id: int, titles: int = 5
) -> repo.Standing | None:
    """The student's progress in the course and in the module of the item they chat about (one query); None when
    they have no ACTIVE or COMPLETED enrolment in the course (staff, say)."""
    return await repo.standing(session, user_id=user_id, course_id=course_id, module_id=module_id, titles=titles)
