"""/auth: sign-up, sign-in (JSON and OAuth2 form), refresh rotation, sign-out, password change."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from twosigma.auth import account, service
from twosigma.auth.dependencies import PresentedRefreshToken
from twosigma.auth.schemas import (
    Accepted,
    ChangePasswordRequest,
    CheckEmailRequest,
    CheckEmailResponse,
    EmailVerified,
    LoginRequest,
    LogoutRequest,
    OnboardingRegisterRequest,
    OnboardingResult,
    PasswordReset,
    PasswordResetRequest,
    RegisterRequest,
    TokenPair,
    VerifyEmailRequest,
)
from twosigma.authz.dependencies import CurrentPrincipal
from twosigma.db.session import DbSession
from twosigma.kit.clock import Now
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


RESET_REQUESTED = Accepted(message="If an account has this address, a link to choose a new password is on its way.")
VERIFICATION_SENT = Accepted(message="A confirmation link is on its way to the account's email address.")


@router.post(
    "/password-reset/request",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    responses=error_responses(422, 429),
    summary="Mail a password reset link (the same answer whether or not the address has an account)",
)
async def request_password_reset(
    data: PasswordResetRequest,
    session: DbSession,
    settings: AppSettings,
    limiter: Limiter,
    address: ClientAddress,
    now: Now,
) -> Accepted:
    await account.request_password_reset(session, settings, limiter, address, data.email, now)
    return RESET_REQUESTED


@router.post(
    "/password-reset",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(422),
    summary="Set a new password with a mailed token; every session of the account is signed out",
)
async def reset_password(data: PasswordReset, session: DbSession, settings: AppSettings, now: Now) -> None:
    await account.reset_password(session, settings, data.token, data.new_password, now)


@router.post(
    "/verify-email/request",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    responses=error_responses(401, 409, 429),
    summary="Mail a link that confirms the signed-in user's email address",
)
async def request_verification(
    principal: CurrentPrincipal, session: DbSession, settings: AppSettings, limiter: Limiter, now: Now
) -> Accepted:
    await account.request_verification(session, settings, limiter, principal, now)
    return VERIFICATION_SENT


@router.post(
    "/verify-email",
    response_model=EmailVerified,
    responses=error_responses(409, 422),
    summary="Confirm an email address (a verification or an email-change link's token)",
)
async def verify_email(data: VerifyEmailRequest, session: DbSession, now: Now) -> EmailVerified:
    user = await account.verify_email(session, data.token, now)
    assert user.email_verified_at is not None
    return EmailVerified(email=user.email, email_verified_at=user.email_verified_at)
