"""The LTI routes of the API (/api/v1): a university's platforms (its admins), the link of an LMS course to an
offering (its staff), and the exchange of a launch's one-time code (anyone holding one)."""

from __future__ import annotations

from fastapi import status

from twosigma.auth.schemas import TokenPair
from twosigma.authz.dependencies import CurrentPrincipal
from twosigma.db.session import DbSession
from twosigma.kit.deps import AppSettings
from twosigma.kit.routing import APIRouter
from twosigma.kit.schemas import error_responses
from twosigma.lti.dependencies import EditableOffering, LtiUniversity, ManagedPlatform, StaffOffering
from twosigma.lti.schemas import (
    ContextLink,
    ContextRead,
    GradeSyncRead,
    LaunchExchange,
    PlatformCreate,
    PlatformRead,
    PlatformUpdate,
    RegistrationLinkRead,
    RosterSyncRead,
)
from twosigma.lti.services import grades, launch, platforms, registration, roster

router = APIRouter(tags=["lti"])


@router.get(
    "/universities/{university_id}/lti/platforms",
    response_model=list[PlatformRead],
    responses=error_responses(401, 403, 404),
    summary="The LTI 1.3 platforms (LMS registrations) of the university",
)
async def list_platforms(university: LtiUniversity, session: DbSession, settings: AppSettings) -> list[PlatformRead]:
    return [platforms.present(settings, p) for p in await platforms.list_platforms(session, university)]


@router.post(
    "/universities/{university_id}/lti/platforms",
    response_model=PlatformRead,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 403, 404, 409, 422),
    summary="Register an LTI 1.3 platform by hand (one issuer and client id belong to one university)",
)
async def create_platform(
    university: LtiUniversity, data: PlatformCreate, session: DbSession, settings: AppSettings
) -> PlatformRead:
    return platforms.present(settings, await platforms.create_platform(session, settings, university, data))


@router.patch(
    "/universities/{university_id}/lti/platforms/{platform_id}",
    response_model=PlatformRead,
    responses=error_responses(401, 403, 404, 422),
    summary="Update a platform's deployments and endpoints, or disable it (`enabled: false`)",
)
async def update_platform(
    platform: ManagedPlatform, data: PlatformUpdate, session: DbSession, settings: AppSettings
) -> PlatformRead:
    return platforms.present(settings, await platforms.update_platform(session, settings, platform, data))


@router.post(
    "/universities/{university_id}/lti/registration-links",
    response_model=RegistrationLinkRead,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 403, 404),
    summary="A dynamic registration link for an LMS (LTI Dynamic Registration 1.0): single use, 7 days",
)
async def create_registration_link(
    university: LtiUniversity, principal: CurrentPrincipal, session: DbSession, settings: AppSettings
) -> RegistrationLinkRead:
    return await registration.create_link(session, settings, principal, university)


@router.put(
    "/offerings/{offering_id}/lti-context",
    response_model=ContextRead,
    responses=error_responses(401, 403, 404, 409, 422),
    summary="Link an LMS course (a platform's context) to this offering",
)
async def link_context(offering: EditableOffering, data: ContextLink, session: DbSession) -> ContextRead:
    return await launch.link_offering(session, offering, data)


@router.get(
    "/offerings/{offering_id}/lti/grade-sync",
    response_model=GradeSyncRead,
    responses=error_responses(401, 403, 404),
    summary="Scores sent to the linked LMS courses' gradebooks: pending, sent and failed, and the latest 100",
)
async def grade_sync(offering: StaffOffering, session: DbSession) -> GradeSyncRead:
    return await grades.grade_sync(session, offering.id)


@router.post(
    "/offerings/{offering_id}/lti/sync-roster",
    response_model=RosterSyncRead,
    responses=error_responses(401, 403, 404, 409, 502),
    summary="Pull the linked LMS courses' members (NRPS) and match the roster: enrol learners, drop leavers",
)
async def sync_roster(offering: EditableOffering, session: DbSession, settings: AppSettings) -> RosterSyncRead:
    return await roster.sync_offering(session, settings, offering)


@router.post(
    "/auth/lti/exchange",
    response_model=TokenPair,
    tags=["auth"],
    responses=error_responses(400, 422),
    summary="Exchange an LTI launch's one-time code (60 seconds, single use) for the usual token pair",
)
async def exchange(data: LaunchExchange, session: DbSession, settings: AppSettings) -> TokenPair:
    return await launch.exchange(session, settings, data.code)
