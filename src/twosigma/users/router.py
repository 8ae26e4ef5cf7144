"""/users/me: the signed-in user's own record, profile, subject preferences and streak."""

from __future__ import annotations

from fastapi import status

from twosigma.auth import account
from twosigma.auth.schemas import Accepted, EmailChangeRequest
from twosigma.authz.dependencies import CurrentPrincipal
from twosigma.db.session import DbSession
from twosigma.kit.clock import Now
from twosigma.kit.deps import AppSettings, Limiter
from twosigma.kit.routing import APIRouter
from twosigma.kit.schemas import error_responses
from twosigma.users import service
from twosigma.users.schemas import (
    ProfileRead,
    ProfileWrite,
    StreakRead,
    SubjectPreferencesRead,
    SubjectPreferencesWrite,
    UserMe,
    UserUpdate,
)

router = APIRouter(prefix="/users", tags=["users"], responses=error_responses(401))


@router.get("/me", response_model=UserMe, summary="The signed-in user, with their roles")
async def get_me(principal: CurrentPrincipal) -> UserMe:
    return service.me(principal)


@router.patch("/me", response_model=UserMe, responses=error_responses(422))
async def update_me(data: UserUpdate, principal: CurrentPrincipal, session: DbSession) -> UserMe:
    return await service.update_me(session, principal, data)


@router.get("/me/profile", response_model=ProfileRead, summary="Onboarding profile (all null when never set)")
async def get_profile(principal: CurrentPrincipal, session: DbSession) -> ProfileRead:
    return await service.get_profile(session, principal.id)


@router.put("/me/profile", response_model=ProfileRead, responses=error_responses(422))
async def put_profile(data: ProfileWrite, principal: CurrentPrincipal, session: DbSession) -> ProfileRead:
    return await service.put_profile(session, principal.id, data)


@router.get("/me/subject-preferences", response_model=SubjectPreferencesRead)
async def get_subject_preferences(principal: CurrentPrincipal, session: DbSession) -> SubjectPreferencesRead:
    return await service.get_subject_preferences(session, principal.id)


@router.put(
    "/me/subject-preferences",
    response_model=SubjectPreferencesRead,
    responses=error_responses(409, 422),
    summary="Replace the set of preferred subjects",
)
async def put_subject_preferences(
    data: SubjectPreferencesWrite, principal: CurrentPrincipal, session: DbSession
) -> SubjectPreferencesRead:
    return await service.put_subject_preferences(session, principal.id, data.subject_ids)


@router.get("/me/streak", response_model=StreakRead, summary="Daily activity streak, in the user's time zone")
async def get_streak(principal: CurrentPrincipal) -> StreakRead:
    return service.streak(principal.user)


@router.post(
    "/me/email",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    responses=error_responses(409, 422, 429),
    summary="Change the email address: a confirmation goes to the new one, and the change applies when it is used",
)
async def change_email(
    data: EmailChangeRequest,
    principal: CurrentPrincipal,
    session: DbSession,
    settings: AppSettings,
    limiter: Limiter,
    now: Now,
) -> Accepted:
    await account.request_email_change(session, settings, limiter, principal, data.new_email, data.password, now)
    return Accepted(message="A confirmation link is on its way to the new address; the change applies once it is used.")
