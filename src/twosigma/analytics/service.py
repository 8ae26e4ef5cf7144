"""The admin analytics overview: who may see which scope, and the figures (five aggregate queries)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.analytics import repository as repo
from twosigma.analytics.schemas import (
    AnalyticsOverview,
    ChatFigures,
    EnrollmentFigures,
    FeedbackFigures,
    ModelTokens,
    TopCourse,
    UserFigures,
)
from twosigma.authz.access.analytics import analytics_scope
from twosigma.authz.principal import Principal
from twosigma.enums import EnrollmentStatus

TOP_COURSES = 10
WINDOW_DAYS = 30


async def overview(
    session: AsyncSession, principal: Principal, university_id: int | None, now: datetime
) -> AnalyticsOverview:
    scope = await analytics_scope(session, principal, university_id)
    today = now.date()
    since = now - timedelta(days=WINDOW_DAYS)

    users = await repo.user_figures(session, scope, today - timedelta(days=6), today - timedelta(days=29))
    by_status = {status: 0 for status in EnrollmentStatus}
    enrolled = progress_sum = 0
    for row in await repo.enrollments_by_status(session, scope):
        by_status[row.status] = int(row.n)
        if row.status in repo.ENROLLED:
            enrolled += int(row.n)
            progress_sum += int(row.progress_sum)
    chat = await repo.chat_figures(session, scope, since)
    tokens = await repo.tokens_by_model(session, scope, since)
    top = await repo.top_courses(session, scope, TOP_COURSES)

    return AnalyticsOverview(
        university_id=scope,
        generated_at=now,
        users=UserFigures(total=users.total, active_7d=users.active_7d, active_30d=users.active_30d),
        enrollments=EnrollmentFigures(total=sum(by_status.values()), by_status=by_status),
        mean_course_progress=round(progress_sum / enrolled, 2) if enrolled else None,
        chat=ChatFigures(
            sessions=chat.sessions,
            messages=chat.messages,
            user_messages=chat.user_messages,
            assistant_messages=chat.assistant_messages,
            messages_30d=chat.messages_30d,
            feedback=FeedbackFigures(up=chat.feedback_up, down=chat.feedback_down),
        ),
        tokens_by_model_30d=[
            ModelTokens(
                model=row.model,
                messages=row.messages,
                input_tokens=int(row.input_tokens),
                output_tokens=int(row.output_tokens),
                total_tokens=int(row.input_tokens) + int(row.output_tokens),
            )
            for row in tokens
        ],
        top_courses=[
            TopCourse(
                course_id=row.id,
                university_id=row.university_id,
                code=row.code,
                title=row.title,
                enrollments=row.enrollments,
                active=row.active,
                completed=row.completed,
            )
            for row in top
        ],
    )
