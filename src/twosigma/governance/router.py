"""HTTP routes of tutor governance: the tutor policy of a university and of a course."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import Path, Query, Response, status
from fastapi.responses import StreamingResponse

from twosigma.authz.dependencies import CurrentPrincipal
from twosigma.db.session import DbSession
from twosigma.governance.dependencies import (
    EditableCourse,
    FlagReader,
    GovernedUniversity,
    InsightCourse,
    OwnChat,
    WithEffective,
)
from twosigma.governance.models import TutorFlag
from twosigma.governance.schemas import (
    ChatReadEvent,
    CourseTutorPolicyWrite,
    FlagRead,
    FlagStatus,
    FlagUpdate,
    ReportFormat,
    TutorInsights,
    TutorPolicyRead,
    TutorUsageReport,
    UniversitySettingList,
    UniversitySettingRead,
    UniversitySettingWrite,
    UniversityTutorPolicyWrite,
    UsageGroupBy,
)
from twosigma.governance.services import flags, oversight, policy, university_settings, usage
from twosigma.kit.clock import Now
from twosigma.kit.deps import AppSettings
from twosigma.kit.pagination import Page, Pagination
from twosigma.kit.params import IdPath, IdQuery
from twosigma.kit.routing import APIRouter
from twosigma.kit.schemas import error_responses
from twosigma.system_settings.dependencies import Effective

router = APIRouter(tags=["tutor governance"])

_PRIVATE = error_responses(401, 403, 404, 422)


@router.get("/universities/{university_id}/tutor-policy", response_model=TutorPolicyRead, responses=_PRIVATE)
async def get_university_policy(
    session: DbSession, settings: Effective, university: GovernedUniversity, show_effective: WithEffective = False
) -> TutorPolicyRead:
    return await policy.read_university_policy(session, settings, university, with_effective=show_effective)


@router.put("/universities/{university_id}/tutor-policy", response_model=TutorPolicyRead, responses=_PRIVATE)
async def put_university_policy(
    session: DbSession, settings: Effective, university: GovernedUniversity, body: UniversityTutorPolicyWrite
) -> TutorPolicyRead:
    """Replaces the university's policy; a field left out or null inherits the platform's setting. The answer
    includes the effective values."""
    return await policy.put_university_policy(session, settings, university, body)


@router.get("/courses/{course_id}/tutor-policy", response_model=TutorPolicyRead, responses=_PRIVATE)
async def get_course_policy(
    session: DbSession, settings: Effective, course: EditableCourse, show_effective: WithEffective = False
) -> TutorPolicyRead:
    return await policy.read_course_policy(session, settings, course, with_effective=show_effective)


@router.put("/courses/{course_id}/tutor-policy", response_model=TutorPolicyRead, responses=_PRIVATE)
async def put_course_policy(
    session: DbSession, settings: Effective, course: EditableCourse, body: CourseTutorPolicyWrite
) -> TutorPolicyRead:
    """Replaces the course's policy (`enabled` and the budgets; visibility and support text are the university's)."""
    return await policy.put_course_policy(session, settings, course, body)


_CSV = {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "The report: JSON, or CSV."}


@router.get(
    "/admin/analytics/tutor-usage",
    response_model=TutorUsageReport,
    responses={200: _CSV, **error_responses(401, 403, 404, 422)},
    tags=["analytics"],
)
async def tutor_usage(
    session: DbSession,
    principal: CurrentPrincipal,
    now: Now,
    university_id: Annotated[IdQuery, Query(description="University admins: default theirs.")] = None,
    course_id: IdQuery = None,
    since: Annotated[date | None, Query(alias="from", description="First day (UTC), default the 1st.")] = None,
    until: Annotated[date | None, Query(alias="to", description="Last day (UTC, inclusive), default today.")] = None,
    group_by: UsageGroupBy = UsageGroupBy.MODEL,
    format: ReportFormat = ReportFormat.JSON,
) -> Any:
    """Tokens, cost, turns and active students of the tutor from the cost ledger, grouped; this month's budgets in
    scope with their 80 % threshold. Platform admins: any scope; university admins: their university."""
    report = await usage.tutor_usage(
        session,
        principal,
        university_id=university_id,
        course_id=course_id,
        since=since,
        until=until,
        group_by=group_by,
        now=now,
    )
    if format is ReportFormat.CSV:
        return StreamingResponse(
            (line.encode() for line in usage.csv_lines(report)),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="tutor-usage.csv"'},
        )
    return report


@router.get("/universities/{university_id}/tutor-flags", response_model=Page[FlagRead], responses=_PRIVATE)
async def list_flags(
    session: DbSession, scope: FlagReader, params: Pagination, status: FlagStatus | None = None
) -> dict[str, Any]:
    """Escalated (high-severity) safety flags, newest first: every one for the university's admins, those of their
    courses for instructors. No message text: the flag says where to look."""
    return (await flags.list_flags(session, scope, status, params)).as_dict()


@router.patch("/universities/{university_id}/tutor-flags/{flag_id}", response_model=FlagRead, responses=_PRIVATE)
async def handle_flag(
    session: DbSession, scope: FlagReader, principal: CurrentPrincipal, flag_id: IdPath, body: FlagUpdate, now: Now
) -> TutorFlag:
    """Acknowledge or resolve a flag, with a note (who and when are recorded)."""
    return await flags.handle_flag(session, scope, principal, flag_id, body, now)


SettingKey = Annotated[str, Path(max_length=100, description="One of the platform's llm.* provider keys.")]


@router.get("/universities/{university_id}/settings", response_model=UniversitySettingList, responses=_PRIVATE)
async def list_university_settings(
    session: DbSession, settings: AppSettings, university: GovernedUniversity
) -> UniversitySettingList:
    """The university's own LLM provider settings (secrets masked). Setting `llm.provider` switches its students'
    tutor to the university's provider and credentials."""
    return await university_settings.list_settings(session, settings, university)


@router.put("/universities/{university_id}/settings/{key}", response_model=UniversitySettingRead, responses=_PRIVATE)
async def put_university_setting(
    session: DbSession,
    settings: AppSettings,
    university: GovernedUniversity,
    key: SettingKey,
    body: UniversitySettingWrite,
) -> UniversitySettingRead:
    return await university_settings.put_setting(session, settings, university, key, body)


@router.delete("/universities/{university_id}/settings/{key}", status_code=204, responses=_PRIVATE)
async def delete_university_setting(session: DbSession, university: GovernedUniversity, key: SettingKey) -> Response:
    await university_settings.delete_setting(session, university, key)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/chat/sessions/{session_id}/reads", response_model=Page[ChatReadEvent], responses=_PRIVATE, tags=["tutor"])
async def chat_reads(session: DbSession, chat: OwnChat, params: Pagination) -> dict[str, Any]:
    """Who of the staff read this chat and when (the owner only)."""
    return (await oversight.chat_reads(session, chat, params)).as_dict()


@router.get("/courses/{course_id}/tutor-insights", response_model=TutorInsights, responses=_PRIVATE)
async def tutor_insights(session: DbSession, settings: Effective, course: InsightCourse) -> TutorInsights:
    """Per content item the chats and the students' turns, and the most frequent terms of their messages (full
    text); never message text. For the staff who see the course's progress."""
    return await oversight.insights(session, settings, course)
