"""The FastAPI adapters of authz's loaders: each takes the path parameter, the session and the caller, and hands them
to the loader in `authz/access/` (or `authz/tutor.py`), which decides. The domains' `dependencies.py` alias these as
`Annotated[..., Depends(...)]`; nothing else calls them (services call the loaders).

Parameter names and their order are part of the OpenAPI document: keep them when editing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, Request

from twosigma.api_keys.cache import VerifiedKey
from twosigma.api_keys.dependencies import PublicApiKey, get_api_key
from twosigma.authz import tutor
from twosigma.authz.access import (
    assessments,
    content,
    courses,
    enrollments,
    feature_requests,
    governance,
    invitations,
    lti,
    privacy,
    progress,
    prompts,
)
from twosigma.authz.access import tenancy as tenancy_access
from twosigma.authz.access.assessments import StaffItem, StudentItem
from twosigma.authz.access.content import CourseAccess, ItemAccess, ModuleAccess
from twosigma.authz.access.progress import READING, WRITING, Participation
from twosigma.authz.dependencies import (
    CurrentPrincipal,
    OptionalPrincipal,
    PlatformAdmin,
    bearer_scheme,
    get_optional_principal,
)
from twosigma.authz.policy import is_platform_admin
from twosigma.authz.principal import Principal
from twosigma.content.models import ContentItem, Module
from twosigma.courses.models import Course, CourseOffering
from twosigma.db.session import DbSession
from twosigma.enrollments.models import CourseEnrollment
from twosigma.feature_requests.models import FeatureRequest
from twosigma.invitations.models import Invitation
from twosigma.kit.deps import AppSettings
from twosigma.kit.params import IdPath
from twosigma.lti.models import LtiPlatform
from twosigma.privacy.models import DataExport
from twosigma.prompts.services.changes import Actor
from twosigma.system_settings.dependencies import Effective
from twosigma.tenancy.models import Department, University
from twosigma.tutor.models import ChatMessage, ChatNote, ChatSession
from twosigma.users.models import User

# --- Courses and offerings -----------------------------------------------------------------------------------------


async def get_visible_course(session: DbSession, principal: CurrentPrincipal, course_id: IdPath) -> Course:
    return await courses.visible_course(session, principal, course_id)


async def get_editable_course(
    principal: CurrentPrincipal, course: Annotated[Course, Depends(get_visible_course)]
) -> Course:
    return courses.editable_course(principal, course)


async def get_visible_offering(session: DbSession, principal: CurrentPrincipal, offering_id: IdPath) -> CourseOffering:
    return await courses.visible_offering(session, principal, offering_id)


async def get_editable_offering(
    principal: CurrentPrincipal, offering: Annotated[CourseOffering, Depends(get_visible_offering)]
) -> CourseOffering:
    return courses.editable_offering(principal, offering)


VisibleCourse = Annotated[Course, Depends(get_visible_course)]
VisibleOffering = Annotated[CourseOffering, Depends(get_visible_offering)]

# --- Modules and content -------------------------------------------------------------------------------------------


async def get_readable_course(session: DbSession, principal: CurrentPrincipal, course: VisibleCourse) -> CourseAccess:
    return await content.course_access(session, principal, course)


async def get_readable_module(session: DbSession, principal: CurrentPrincipal, module_id: IdPath) -> ModuleAccess:
    return await content.readable_module(session, principal, module_id)


async def get_editable_module(session: DbSession, principal: CurrentPrincipal, module_id: IdPath) -> Module:
    return await content.editable_module(session, principal, module_id)


async def get_readable_item(session: DbSession, principal: CurrentPrincipal, content_item_id: IdPath) -> ItemAccess:
    return await content.readable_item(session, principal, content_item_id)


async def get_editable_item(session: DbSession, principal: CurrentPrincipal, content_item_id: IdPath) -> ContentItem:
    return await content.editable_item(session, principal, content_item_id)


# --- Enrolments ----------------------------------------------------------------------------------------------------


async def get_visible_enrollment(
    session: DbSession, principal: CurrentPrincipal, enrollment_id: IdPath
) -> CourseEnrollment:
    return await enrollments.visible_enrollment(session, principal, enrollment_id)


async def get_editable_enrollment(
    principal: CurrentPrincipal, enrollment: Annotated[CourseEnrollment, Depends(get_visible_enrollment)]
) -> CourseEnrollment:
    return enrollments.editable_enrollment(principal, enrollment)


async def get_roster_offering(principal: CurrentPrincipal, offering: VisibleOffering) -> CourseOffering:
    return enrollments.roster_offering(principal, offering)


# --- Progress ------------------------------------------------------------------------------------------------------


async def get_writing_participation(
    session: DbSession, principal: CurrentPrincipal, offering: VisibleOffering
) -> Participation:
    return await progress.participation(session, principal, offering, WRITING)


async def get_reading_participation(
    session: DbSession, principal: CurrentPrincipal, offering: VisibleOffering
) -> Participation:
    return await progress.participation(session, principal, offering, READING)


async def get_staff_offering(session: DbSession, principal: CurrentPrincipal, offering_id: IdPath) -> CourseOffering:
    return await progress.staff_offering(session, principal, offering_id)


# --- Assessments ---------------------------------------------------------------------------------------------------


async def get_attempting_item(
    session: DbSession,
    part: Annotated[Participation, Depends(get_writing_participation)],
    content_item_id: IdPath,
) -> StudentItem:
    return await assessments.student_item(session, part, content_item_id)


async def get_reviewing_item(
    session: DbSession,
    part: Annotated[Participation, Depends(get_reading_participation)],
    content_item_id: IdPath,
) -> StudentItem:
    return await assessments.student_item(session, part, content_item_id)


async def get_gradebook_item(
    session: DbSession,
    offering: Annotated[CourseOffering, Depends(get_staff_offering)],
    content_item_id: IdPath,
) -> StaffItem:
    return await assessments.staff_item(session, offering, content_item_id)


# --- Feature requests ----------------------------------------------------------------------------------------------


async def get_visible_request(session: DbSession, principal: CurrentPrincipal, request_id: IdPath) -> FeatureRequest:
    return await feature_requests.visible_request(session, principal, request_id)


# --- Data exports and erasure --------------------------------------------------------------------------------------


async def get_own_export(session: DbSession, principal: CurrentPrincipal, export_id: IdPath) -> DataExport:
    return await privacy.own_export(session, principal, export_id)


async def get_erasable_account(session: DbSession, admin: PlatformAdmin, user_id: IdPath) -> User:
    return await privacy.erasable_account(session, admin, user_id)


# --- Invitations ---------------------------------------------------------------------------------------------------

InvitationId = Annotated[int, Path(ge=1, le=2_147_483_647)]


async def get_addressed_invitation(
    session: DbSession, principal: CurrentPrincipal, invitation_id: InvitationId
) -> Invitation:
    return await invitations.addressed_invitation(session, principal, invitation_id)


async def get_managed_invitation(
    session: DbSession, principal: CurrentPrincipal, invitation_id: InvitationId
) -> Invitation:
    return await invitations.managed_invitation(session, principal, invitation_id)


# --- Universities and departments ----------------------------------------------------------------------------------
# Path ids are int4 in the database: out-of-range values are a 422, not a driver error.


async def get_visible_university(university_id: IdPath, session: DbSession, p: OptionalPrincipal) -> University:
    return await tenancy_access.visible_university(session, p, university_id)


async def get_administered_university(
    p: CurrentPrincipal, university: Annotated[University, Depends(get_visible_university)]
) -> University:
    return tenancy_access.administered_university(p, university)


async def get_managed_university(p: CurrentPrincipal, university_id: IdPath, session: DbSession) -> University:
    return await tenancy_access.managed_university(session, p, university_id)


async def get_suspending_university(p: CurrentPrincipal, university_id: IdPath, session: DbSession) -> University:
    return await tenancy_access.suspending_university(session, p, university_id)


async def get_inviting_university(p: CurrentPrincipal, university_id: IdPath, session: DbSession) -> University:
    return await tenancy_access.inviting_university(session, p, university_id)


async def get_sso_university(p: CurrentPrincipal, university_id: IdPath, session: DbSession) -> University:
    return await tenancy_access.sso_university(session, p, university_id)


async def get_lti_university(p: CurrentPrincipal, university_id: IdPath, session: DbSession) -> University:
    return await lti.lti_university(session, p, university_id)


async def get_lti_platform(
    p: CurrentPrincipal, university_id: IdPath, platform_id: IdPath, session: DbSession
) -> LtiPlatform:
    return await lti.lti_platform(session, p, university_id, platform_id)


async def get_audited_university(p: CurrentPrincipal, university_id: IdPath, session: DbSession) -> University:
    return await tenancy_access.audited_university(session, p, university_id)


async def get_governed_university(p: CurrentPrincipal, university_id: IdPath, session: DbSession) -> University:
    return await governance.governed_university(session, p, university_id)


async def get_flag_scope(p: CurrentPrincipal, university_id: IdPath, session: DbSession) -> governance.FlagScope:
    return await governance.flag_scope(session, p, university_id)


async def get_visible_department(department_id: IdPath, session: DbSession, p: OptionalPrincipal) -> Department:
    return await tenancy_access.visible_department(session, p, department_id)


async def get_editable_department(
    p: CurrentPrincipal, department: Annotated[Department, Depends(get_visible_department)]
) -> Department:
    return tenancy_access.editable_department(p, department)


async def get_deletable_department(
    p: CurrentPrincipal, department: Annotated[Department, Depends(get_visible_department)]
) -> Department:
    return tenancy_access.deletable_department(p, department)


# --- Prompts -------------------------------------------------------------------------------------------------------


async def require_prompt_reader(principal: CurrentPrincipal) -> Principal:
    return prompts.prompt_reader(principal)


async def require_prompt_writer(principal: CurrentPrincipal) -> Actor:
    return prompts.prompt_writer(principal)


async def api_key_reader(request: Request) -> VerifiedKey:
    # Not built on PublicApiKey: the hot GET resolves this one dependency and nothing else.
    return prompts.api_key_reader(await get_api_key(request))


async def api_key_writer(key: PublicApiKey) -> Actor:
    return prompts.api_key_writer(key)


# --- Taxonomy ------------------------------------------------------------------------------------------------------


async def include_inactive_content_types(
    request: Request,
    settings: AppSettings,
    token: Annotated[str | None, Depends(bearer_scheme)],
    include_inactive: Annotated[bool, Query(description="Platform admins only; ignored for others.")] = False,
) -> bool:
    """Honour `include_inactive` for platform admins only; for anyone else it is ignored.

    The token is looked at only when the flag is set: public reads neither need nor check credentials.
    """
    if not include_inactive:
        return False
    return is_platform_admin(await get_optional_principal(request, token))


# --- The tutor -----------------------------------------------------------------------------------------------------


async def get_own_session(session: DbSession, principal: CurrentPrincipal, session_id: IdPath) -> ChatSession:
    return await tutor.own_session(session, principal, session_id)


async def get_continuable_session(
    session: DbSession,
    principal: CurrentPrincipal,
    chat: Annotated[ChatSession, Depends(get_own_session)],
    effective: Effective,
) -> ChatSession:
    await tutor.ensure_tutor_access(session, principal, open_chat=effective.tutor_open_chat, chat=chat)
    return chat


async def get_readable_chat(
    session: DbSession, principal: CurrentPrincipal, session_id: IdPath, effective: Effective
) -> governance.ChatReading:
    return await governance.readable_chat(session, principal, session_id, effective)


async def get_insight_course(principal: CurrentPrincipal, course: VisibleCourse) -> Course:
    return await governance.insight_course(principal, course)


async def get_own_note(session: DbSession, principal: CurrentPrincipal, note_id: IdPath) -> ChatNote:
    return await tutor.own_note(session, principal, note_id)


async def get_own_message(session: DbSession, principal: CurrentPrincipal, message_id: IdPath) -> ChatMessage:
    return await tutor.own_message(session, principal, message_id)


async def get_continuable_message(
    session: DbSession, principal: CurrentPrincipal, message_id: IdPath, effective: Effective
) -> tutor.MessageInChat:
    return await tutor.continuable_message(session, principal, message_id, open_chat=effective.tutor_open_chat)
