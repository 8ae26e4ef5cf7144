"""Every query of the assessments domain: the quiz item, attempts, and the gradebook's set-based reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Boolean, Integer, Row, String, cast, func, literal, select, update
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from twosigma.assessments.models import QuizAttempt
from twosigma.content.models import ContentItem, Module
from twosigma.kit.pagination import PageParams, PageResult, paginate
from twosigma.progress.repository import offering_progress_query
from twosigma.taxonomy.models import ContentType


@dataclass(frozen=True)
class FoundItem:
    item: ContentItem
    gradable: bool


async def item_in_course(session: AsyncSession, item_id: int, course_id: int) -> FoundItem | None:
    """The item, if it belongs to `course_id`, with whether its content type is gradable (one query)."""
    stmt = (
        select(ContentItem, ContentType.gradable)
        .join(ContentType, ContentType.id == ContentItem.content_type_id)
        .where(ContentItem.id == item_id, ContentItem.course_id == course_id)
    )
    row = (await session.execute(stmt)).one_or_none()
    return FoundItem(row.ContentItem, bool(row.gradable)) if row is not None else None


# --- Attempts ------------------------------------------------------------------------------------------------------


def _attempt_lock_key(user_id: int, offering_id: int, item_id: int) -> str:
    return f"quiz-attempt:{user_id}:{offering_id}:{item_id}"


async def lock_attempts(session: AsyncSession, *, user_id: int, offering_id: int, item_id: int) -> None:
    """Serialize one student's submits at one quiz (a transaction-scoped advisory lock). Taken in a statement of its
    own: a statement's snapshot predates a lock it waits for, so the count must be read by the next statement."""
    key = _attempt_lock_key(user_id, offering_id, item_id)
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(literal(key, String), 0))))


def _own(user_id: int, offering_id: int, item_id: int) -> list[Any]:
    return [
        QuizAttempt.user_id == user_id,
        QuizAttempt.course_offering_id == offering_id,
        QuizAttempt.content_item_id == item_id,
    ]


@dataclass(frozen=True)
class AttemptSummary:
    used: int  # the highest attempt number so far (attempts are numbered 1..n)
    passed: bool  # some attempt passed


async def attempt_summary(session: AsyncSession, *, user_id: int, offering_id: int, item_id: int) -> AttemptSummary:
    stmt = select(
        func.coalesce(func.max(QuizAttempt.attempt_number), 0).label("used"),
        func.coalesce(func.bool_or(QuizAttempt.passed), False).label("passed"),
    ).where(*_own(user_id, offering_id, item_id))
    row = (await session.execute(stmt)).one()
    return AttemptSummary(used=int(row.used), passed=bool(row.passed))


async def add_attempt(session: AsyncSession, attempt: QuizAttempt) -> QuizAttempt:
    """Insert `attempt` inside a savepoint, so that a unique violation (the same attempt number twice) leaves the
    request's transaction usable; the caller turns the IntegrityError into its answer."""
    async with session.begin_nested():
        session.add(attempt)
        await session.flush()
    return attempt


async def list_attempts(
    session: AsyncSession, *, user_id: int, offering_id: int, item_id: int, params: PageParams
) -> PageResult[QuizAttempt]:
    stmt = select(QuizAttempt).where(*_own(user_id, offering_id, item_id)).order_by(QuizAttempt.attempt_number)
    return await paginate(session, stmt, params)


async def count_item_attempts(session: AsyncSession, item_id: int) -> int:
    """Attempts at the item, in every offering (whether it may leave its gradable type)."""
    stmt = select(func.count()).select_from(QuizAttempt).where(QuizAttempt.content_item_id == item_id)
    return int(await session.scalar(stmt) or 0)


async def passed_any(session: AsyncSession, *, user_id: int, offering_id: int, item_id: int) -> bool:
    stmt = select(func.bool_or(QuizAttempt.passed)).where(*_own(user_id, offering_id, item_id))
    return bool(await session.scalar(stmt))


# --- The gradebook -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GradableItem:
    id: int
    title: str
    data_json: Any


async def reachable_gradable_items(session: AsyncSession, course_id: int) -> list[GradableItem]:
    """The course's items of a gradable type that students can reach (under the root through published modules),
    in course order: depth first, siblings by their sequence (one recursive query)."""
    tree = (
        select(Module.id, array([Module.sequence_index], type_=Integer).label("order_path"))  # type: ignore[misc]
        .where(Module.course_id == course_id, Module.parent_module_id.is_(None), Module.is_published)
        .cte("reachable_modules", recursive=True)
    )
    child = aliased(Module)
    tree = tree.union_all(
        select(child.id, func.array_append(tree.c.order_path, child.sequence_index).label("order_path"))
        .join(tree, child.parent_module_id == tree.c.id)
        .where(child.is_published)
    )
    stmt = (
        select(ContentItem.id, ContentItem.title, ContentItem.data_json)
        .join(tree, tree.c.id == ContentItem.module_id)
        .join(ContentType, ContentType.id == ContentItem.content_type_id)
        .where(ContentType.gradable)
        .order_by(tree.c.order_path, ContentItem.sequence_index, ContentItem.id)
    )
    return [GradableItem(r.id, r.title, r.data_json) for r in await session.execute(stmt)]


def _roster(offering_id: int, course_id: int, sort: str) -> Any:
    """The offering's roster (ACTIVE and COMPLETED enrolments) with each student's course progress, as the progress
    domain computes it for its own staff view, sorted by `sort` (name, -name, progress, -progress)."""
    roster = offering_progress_query(offering_id, course_id).order_by(None).subquery("roster")
    name: list[Any] = [roster.c.full_name, roster.c.user_id]
    if sort == "name":
        order = name
    elif sort == "-name":
        order = [roster.c.full_name.desc(), roster.c.user_id.desc()]
    elif sort == "progress":
        order = [roster.c.progress_percent, *name]
    else:
        order = [roster.c.progress_percent.desc(), *name]
    return select(roster).order_by(*order)


async def roster_count(session: AsyncSession, offering_id: int, course_id: int) -> int:
    roster = offering_progress_query(offering_id, course_id).order_by(None).subquery("roster")
    return int(await session.scalar(select(func.count()).select_from(roster)) or 0)


async def roster_rows(
    session: AsyncSession, offering_id: int, course_id: int, *, sort: str, limit: int | None, offset: int
) -> Sequence[Row[Any]]:
    stmt = _roster(offering_id, course_id, sort).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    return (await session.execute(stmt)).all()


@dataclass(frozen=True)
class Grade:
    best_score_percent: float
    attempts_used: int
    passed: bool


async def grades(
    session: AsyncSession, offering_id: int, item_ids: list[int], user_ids: list[int] | None
) -> dict[tuple[int, int], Grade]:
    """(user id, item id) → the student's best score, attempts and whether one passed, for the given items and
    students (every student of the offering when `user_ids` is None): one grouped query."""
    if not item_ids or user_ids == []:
        return {}
    stmt = (
        select(
            QuizAttempt.user_id,
            QuizAttempt.content_item_id,
            func.max(QuizAttempt.score_percent).label("best"),
            func.count().label("used"),
            func.bool_or(QuizAttempt.passed).label("passed"),
        )
        .where(QuizAttempt.course_offering_id == offering_id, QuizAttempt.content_item_id.in_(item_ids))
        .group_by(QuizAttempt.user_id, QuizAttempt.content_item_id)
    )
    if user_ids is not None:
        stmt = stmt.where(QuizAttempt.user_id.in_(user_ids))
    return {
        (r.user_id, r.content_item_id): Grade(float(r.best), int(r.used), bool(r.passed))
        for r in await session.execute(stmt)
    }


@dataclass(frozen=True)
class ItemTotals:
    attempts: int
    students_attempted: int
    students_passed: int
    mean_score: float | None
    mean_best: float | None


async def item_totals(session: AsyncSession, offering_id: int, item_id: int) -> ItemTotals:
    per_student = (
        select(
            QuizAttempt.user_id,
            func.count().label("used"),
            func.sum(QuizAttempt.score_percent).label("total"),
            func.max(QuizAttempt.score_percent).label("best"),
            func.bool_or(QuizAttempt.passed).label("passed"),
        )
        .where(QuizAttempt.course_offering_id == offering_id, QuizAttempt.content_item_id == item_id)
        .group_by(QuizAttempt.user_id)
        .subquery("per_student")
    )
    stmt = select(
        func.coalesce(func.sum(per_student.c.used), 0).label("attempts"),
        func.count().label("students"),
        func.count().filter(per_student.c.passed).label("passed"),
        (func.sum(per_student.c.total) / func.nullif(func.sum(per_student.c.used), 0)).label("mean_score"),
        func.avg(per_student.c.best).label("mean_best"),
    )
    row = (await session.execute(stmt)).one()
    return ItemTotals(
        attempts=int(row.attempts),
        students_attempted=int(row.students),
        students_passed=int(row.passed),
        mean_score=float(row.mean_score) if row.mean_score is not None else None,
        mean_best=float(row.mean_best) if row.mean_best is not None else None,
    )


@dataclass(frozen=True)
class QuestionTotals:
    attempts: int
    correct: int


async def question_totals(session: AsyncSession, offering_id: int, item_id: int) -> dict[str, QuestionTotals]:
    """Question id → (attempts graded on it, how many of them answered it correctly), from the attempts' stored
    results (one query, unnesting each attempt's results)."""
    result = func.jsonb_array_elements(QuizAttempt.results).table_valued("value").render_derived("result")
    question_id = result.c.value.op("->>")("question_id")
    correct = cast(result.c.value.op("->>")("correct"), Boolean)
    stmt = (
        select(
            question_id.label("question_id"),
            func.count().label("attempts"),
            func.count().filter(correct).label("ok"),
        )
        .select_from(QuizAttempt)
        .join(result, literal(True))
        .where(QuizAttempt.course_offering_id == offering_id, QuizAttempt.content_item_id == item_id)
        .group_by(question_id)
    )
    return {r.question_id: QuestionTotals(int(r.attempts), int(r.ok)) for r in await session.execute(stmt)}


async def clear_answers_of_user(session: AsyncSession, user_id: int) -> None:
    await session.execute(
        update(QuizAttempt).where(QuizAttempt.user_id == user_id).values(answers={}),
        execution_options={"synchronize_session": False},
    )


# --- What the tutor knows of a student's quizzes -----------------------------------------------------------------


@dataclass(frozen=True)
class LatestAttempt:
    """A student's latest attempt at one quiz of a course, with their record there and the quiz as stored now."""

    item_id: int
    title: str
    data_json: Any  # the item's stored data (keys included): read on the server, never passed on as it is
    attempt_number: int
    attempts: int
    score_percent: float
    best_score_percent: float
    passed: bool
    passed_ever: bool
    results: list[dict[str, Any]]


async def latest_attempts(session: AsyncSession, *, user_id: int, course_id: int, limit: int) -> list[LatestAttempt]:
    """The student's latest attempt at each quiz of the course (any offering), the most recently attempted
    `limit` quizzes first: one query (window functions over the student's attempts at the course's items)."""
    item = QuizAttempt.content_item_id
    ranked = (
        select(
            QuizAttempt.content_item_id,
            QuizAttempt.attempt_number,
            QuizAttempt.score_percent,
            QuizAttempt.passed,
            QuizAttempt.results,
            QuizAttempt.submitted_at,
            func.count().over(partition_by=item).label("attempts"),
            func.max(QuizAttempt.score_percent).over(partition_by=item).label("best"),
            func.bool_or(QuizAttempt.passed).over(partition_by=item).label("passed_ever"),
            func.row_number()
            .over(partition_by=item, order_by=(QuizAttempt.submitted_at.desc(), QuizAttempt.id.desc()))
            .label("rank"),
        )
        .join(ContentItem, ContentItem.id == QuizAttempt.content_item_id)
        .where(QuizAttempt.user_id == user_id, ContentItem.course_id == course_id)
        .subquery("ranked")
    )
    stmt = (
        select(ranked, ContentItem.title, ContentItem.data_json)
        .join(ContentItem, ContentItem.id == ranked.c.content_item_id)
        .where(ranked.c.rank == 1)
        .order_by(ranked.c.submitted_at.desc(), ranked.c.content_item_id.desc())
        .limit(limit)
    )
    return [
        LatestAttempt(
            item_id=r.content_item_id,
            title=r.title,
            data_json=r.data_json,
            attempt_number=r.attempt_number,
            attempts=int(r.attempts),
            score_percent=float(r.score_percent),
            best_score_percent=float(r.best),
            passed=bool(r.passed),
            passed_ever=bool(r.passed_ever),
            results=list(r.results or []),
        )
        for r in await session.execute(stmt)
    ]
