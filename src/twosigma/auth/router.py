"""/auth: sign-up, sign-in (JSON and OAuth2 form), refresh rotation, sign-out, password change."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from twosigma.auth import service
from twosigma.auth.dependencies import PresentedRefreshToken
from twosigma.auth.schemas import (
    ChangePasswordRequest,
    CheckEmailRequest,
    CheckEmailResponse,
    LoginRequest,
    LogoutRequest,
    OnboardingRegisterRequest,
    OnboardingResult,
    RegisterRequest,
    TokenPair,
)
from twosigma.authz.dependencies import CurrentPrincipal
from twosigma.db.session import DbSession
from twosigma.kit.deps import AppSettings, ClientAddress, Limiter
from twosigma.kit.handlers import error_response
from twosigma.kit.routing import APIRouter
from twosigma.kit.schemas import error_responses
from twosigma.system_settings.dependencies import Effective

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/check-email", response_model=CheckEmailResponse, responses=error_responses(422, 429))
async def check_email(
    data: CheckEmailRequest, session: DbSession, limiter: Limiter, address: ClientAddress
) -> CheckEmailResponse:
    return await service.check_email(session, limiter, address, data.email)


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    response_model=TokenPair,
    responses=error_responses(403, 409, 422, 429),
)
async def register(
    data: RegisterRequest,
    session: DbSession,
    settings: AppSettings,
    limiter: Limiter,
    address: ClientAddress,
    effective: Effective,
) -> TokenPair:
    return await service.register(
        session, settings, limiter, address, data, registration_open=effective.auth_allow_self_registration
    )


@router.post(
    "/register-with-onboarding",
    status_code=status.HTTP_201_CREATED,
    response_model=OnboardingResult,
    responses=error_responses(403, 409, 422, 429),
    summary="Sign up with profile and subject preferences, in one transaction",
)
async def register_with_onboarding(
    data: OnboardingRegisterRequest,
    session: DbSession,
    settings: AppSettings,
    limiter: Limiter,
    address: ClientAddress,
    effective: Effective,
) -> OnboardingResult:
    return await service.register_with_onboarding(
        session, settings, limiter, address, data, registration_open=effective.auth_allow_self_registration
    )


@router.post("/login", response_model=TokenPair, responses=error_responses(401, 403, 422, 429))
async def login(
    data: LoginRequest, session: DbSession, settings: AppSettings, limiter: Limiter, address: ClientAddress
) -> TokenPair:
    return await service.login(session, settings, limiter, address, data.email, data.password)


@router.post(
    "/token",
    response_model=TokenPair,
    responses=error_responses(401, 403, 422, 429),
    summary="OAuth2 password flow (username = email), for Swagger's Authorize button",
)
async def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: DbSession,
    settings: AppSettings,
    limiter: Limiter,
    address: ClientAddress,
) -> TokenPair:
    return await service.login(session, settings, limiter, address, form.username, form.password)


@router.post(
    "/refresh",
    response_model=TokenPair,
    responses=error_responses(401),
    summary="Rotate a refresh token (sent as Authorization: Bearer) into a new pair",
)
async def refresh(token: PresentedRefreshToken, session: DbSession, settings: AppSettings) -> TokenPair | Response:
    outcome = await service.refresh(session, settings, token)
    if isinstance(outcome, service.RefreshTokenReused):
        # Returned, not raised, so the unit of work commits the family revocation before this 401 is sent.
        return error_response(outcome.status_code, outcome.error_code, outcome.message, None, outcome.headers)
    return outcome


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(401, 422))
async def logout(data: LogoutRequest, session: DbSession, settings: AppSettings) -> None:
    await service.logout(session, settings, data.refresh_token)


@router.post("/change-password", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(401, 422, 429))
async def change_password(
    data: ChangePasswordRequest,
    principal: CurrentPrincipal,
    session: DbSession,
    settings: AppSettings,
    limiter: Limiter,
) -> None:
    await service.change_password(session, settings, limiter, principal, data)
