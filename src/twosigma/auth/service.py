"""Sign-up, sign-in, refresh-token rotation with reuse detection, sign-out and password change.

Refresh tokens form families: every token rotated from one sign-in shares the first one's `family_id`. Presenting
a token that was already spent (rotated into a successor) means a copy of it is in someone else's hands, so the
whole family is revoked, the successor issued before the reuse included, and the caller must sign in again. A token
revoked without a successor (sign-out, password change, a family revoked after reuse) is only refused: nothing was
stolen that the revocation has not already dealt with.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.auth import repository
from twosigma.auth.models import RefreshToken
from twosigma.auth.passwords import hash_password, needs_rehash, verify_password
from twosigma.auth.schemas import (
    ChangePasswordRequest,
    CheckEmailResponse,
    OnboardingRegisterRequest,
    OnboardingResult,
    RegisterRequest,
    TokenPair,
)
from twosigma.auth.tokens import TokenType, decode_token, encode_token, new_jti
from twosigma.authz.access.sso import password_sign_in_refused
from twosigma.authz.principal import Principal
from twosigma.config import Settings
from twosigma.kit.errors import Forbidden, Invalid, Unauthorized
from twosigma.kit.ratelimit import RateLimiter
from twosigma.users import repository as users_repository
from twosigma.users import service as users_service
from twosigma.users.fields import normalize_email
from twosigma.users.models import User
from twosigma.users.schemas import UserRead

CHECK_EMAIL_PER_MINUTE = 30  # per client address: the endpoint answers "is this email registered?"
# Both sign-up routes share one budget per client address (TWOSIGMA_REGISTRATIONS_PER_MINUTE): a taken email answers
# 409, so unlimited sign-ups would answer "is this email registered?" without check-email's limit.
_REGISTER_KEY = "register:address"


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"
    default_message = "The email or password is incorrect."


class AccountInactive(Forbidden):
    code = "account_inactive"
    default_message = "This account is inactive."


class RegistrationClosed(Forbidden):
    code = "registration_closed"
    default_message = (
        "This platform does not take sign-ups; accounts come from invitations, single sign-on or an administrator."
    )


class SsoRequired(Forbidden):
    code = "sso_required"
    default_message = "Your university requires signing in through its single sign-on."


class RefreshTokenReused(Unauthorized):
    code = "refresh_token_reused"
    default_message = "This refresh token was already used; every session of its sign-in has been revoked."


class RefreshTokenRevoked(Unauthorized):
    code = "refresh_token_revoked"
    default_message = "This refresh token was revoked (signed out, or the password changed); sign in again."


class InvalidCurrentPassword(Invalid):
    code = "invalid_current_password"
    default_message = "The current password is incorrect."


def _invalid_token() -> Unauthorized:
    return Unauthorized("The token is not valid.", code="invalid_token")


def _login_limit(settings: Settings) -> str:
    return f"{settings.login_attempts_per_minute}/minute"


async def _count_registration(settings: Settings, limiter: RateLimiter, address: str) -> None:
    """One sign-up attempt from `address`, counted before any query or bcrypt, whatever its outcome (201 or 409)."""
    await limiter.hit(
        f"{settings.registrations_per_minute}/minute",
        _REGISTER_KEY,
        address,
        message="Too many sign-ups from this address; try again shortly.",
    )


async def issue_pair(
    session: AsyncSession, settings: Settings, user_id: int, family_id: str | None = None
) -> TokenPair:
    """A new access token and a new refresh token (persisted) in `family_id`, or in a new family."""
    pair, _ = await _issue(session, settings, user_id, family_id)
    return pair


async def _issue(
    session: AsyncSession, settings: Settings, user_id: int, family_id: str | None
) -> tuple[TokenPair, str]:
    access, _ = encode_token(
        settings,
        user_id=user_id,
        token_type=TokenType.ACCESS,
        lifetime=timedelta(minutes=settings.access_token_minutes),
    )
    family = family_id or new_jti()
    refresh, claims = encode_token(
        settings,
        user_id=user_id,
        token_type=TokenType.REFRESH,
        lifetime=timedelta(days=settings.refresh_token_days),
        family_id=family,
    )
    session.add(RefreshToken(jti=claims.jti, user_id=user_id, family_id=family, expires_at=claims.expires_at))
    await session.flush()
    pair = TokenPair(access_token=access, refresh_token=refresh, expires_in=settings.access_token_minutes * 60)
    return pair, claims.jti


async def check_email(session: AsyncSession, limiter: RateLimiter, address: str, email: str) -> CheckEmailResponse:
    await limiter.hit(f"{CHECK_EMAIL_PER_MINUTE}/minute", "check-email:address", address)
    return CheckEmailResponse(available=not await users_repository.email_exists(session, email))


def _account(data: RegisterRequest) -> users_service.NewAccount:
    return users_service.NewAccount(
        email=data.email,
        password=data.password,
        full_name=data.full_name,
        locale=data.locale,
        time_zone=data.time_zone,
    )


def _ensure_registration_open(registration_open: bool) -> None:
    """`auth.allow_self_registration` (a runtime setting, default on): checked before anything is counted or read."""
    if not registration_open:
        raise RegistrationClosed()


async def register(
    session: AsyncSession,
    settings: Settings,
    limiter: RateLimiter,
    address: str,
    data: RegisterRequest,
    *,
    registration_open: bool = True,
) -> TokenPair:
    _ensure_registration_open(registration_open)
    await _count_registration(settings, limiter, address)
    user = await users_service.create_user(session, settings, _account(data))
    return await issue_pair(session, settings, user.id)


async def register_with_onboarding(
    session: AsyncSession,
    settings: Settings,
    limiter: RateLimiter,
    address: str,
    data: OnboardingRegisterRequest,
    *,
    registration_open: bool = True,
) -> OnboardingResult:
    """User, profile, preferences and the first refresh token in the request's one transaction."""
    _ensure_registration_open(registration_open)
    await _count_registration(settings, limiter, address)
    subject_ids = sorted(set(data.subject_preferences))
    await users_service.ensure_subjects_exist(session, subject_ids)
    user = await users_service.create_user(session, settings, _account(data))
    profile = await users_service.create_profile(session, user.id, data.profile)
    preferences = await users_service.put_subject_preferences(session, user.id, subject_ids)
    tokens = await issue_pair(session, settings, user.id)
    return OnboardingResult(
        user=UserRead.model_validate(user),
        profile=profile,
        subject_preferences=preferences.subject_ids,
        tokens=tokens,
    )


async def login(
    session: AsyncSession, settings: Settings, limiter: RateLimiter, address: str, email: str, password: str
) -> TokenPair:
    """One 401 for an unknown email and a wrong password; 403 for an inactive account, after the password.

    Every attempt under the limits costs one bcrypt check at the configured cost, account or not (auth/passwords.py).
    """
    user = await authenticate(session, settings, limiter, address, email, password)
    return await issue_pair(session, settings, user.id)


async def authenticate(
    session: AsyncSession, settings: Settings, limiter: RateLimiter, address: str, email: str, password: str
) -> User:
    """The active account `email` and `password` sign in to (login's rules and limits, and its equal work), or
    401 `invalid_credentials` / 403 `account_inactive`. A form that signs in for one act (the invitation page)
    calls this too, sharing login's budget."""
    email = normalize_email(email)
    message = "Too many sign-in attempts; try again shortly."
    await limiter.hit(_login_limit(settings), "login:address", address, message=message)
    await limiter.hit(_login_limit(settings), "login:email", email, message=message)
    user = await users_repository.get_by_email(session, email)
    # With no user, verify_password checks a dummy hash, so both failures take the same time.
    matches = await verify_password(password, user.password_hash if user else None, settings.bcrypt_rounds)
    if not matches or user is None:
        raise InvalidCredentials()
    if not user.is_active:
        raise AccountInactive()
    await _ensure_password_sign_in(session, settings, user.id)
    if needs_rehash(user.password_hash, settings.bcrypt_rounds):
        user.password_hash = await hash_password(password, settings.bcrypt_rounds)
        await session.flush()
    return user


async def _ensure_password_sign_in(session: AsyncSession, settings: Settings, user_id: int) -> None:
    """403 `sso_required` for a member of a university that requires single sign-on (after the password was
    verified, like `account_inactive`, so the answer tells nothing to someone without it)."""
    universities = await password_sign_in_refused(session, user_id)
    if universities:
        base = settings.public_base_url.rstrip("/")
        urls = [f"{base}/api/v1/auth/sso/{u.short_code}/login" for u in universities]
        raise SsoRequired(details={"login_url": urls[0], "login_urls": urls})


async def refresh(session: AsyncSession, settings: Settings, token: str) -> TokenPair | RefreshTokenReused:
    """Rotate a refresh token. Reuse is *returned*, not raised: the family revocation must be committed.

    The caller (the route) turns a `RefreshTokenReused` into the 401 response after the unit of work commits;
    raising here would roll the revocation back together with the request.
    """
    claims = decode_token(settings, token, TokenType.REFRESH)
    if claims.family_id is None:
        raise _invalid_token()
    row = await repository.lock_by_jti(session, claims.jti)
    if row is None or row.user_id != claims.user_id or row.family_id != claims.family_id:
        raise _invalid_token()
    now = datetime.now(UTC)
    if row.revoked_at is not None and row.replaced_by is None:
        raise RefreshTokenRevoked()
    if row.revoked_at is not None:
        await repository.revoke_family(session, row.family_id, now)
        return RefreshTokenReused()
    if row.expires_at <= now:
        raise Unauthorized("The token has expired.", code="token_expired")
    user = await session.get(User, row.user_id)
    if user is None:
        raise _invalid_token()
    if not user.is_active:
        raise Unauthorized("This account is inactive.", code="account_inactive")
    pair, successor_jti = await _issue(session, settings, user.id, row.family_id)
    row.revoked_at = now
    row.replaced_by = successor_jti
    await session.flush()
    return pair


async def logout(session: AsyncSession, settings: Settings, token: str) -> None:
    """Revoke the token's whole family (every session rotated from that sign-in). Idempotent."""
    claims = decode_token(settings, token, TokenType.REFRESH)
    row = await repository.get_by_jti(session, claims.jti)
    if row is None or row.user_id != claims.user_id:
        raise _invalid_token()
    await repository.revoke_family(session, row.family_id, datetime.now(UTC))


async def change_password(
    session: AsyncSession, settings: Settings, limiter: RateLimiter, principal: Principal, data: ChangePasswordRequest
) -> None:
    """Check the current password, store the new one, and sign every refresh token of the user out."""
    await limiter.hit(
        _login_limit(settings),
        "change-password:user",
        str(principal.id),
        message="Too many password attempts; try again shortly.",
    )
    user = await users_service.load_self(session, principal)
    if not await verify_password(data.current_password, user.password_hash, settings.bcrypt_rounds):
        raise InvalidCurrentPassword()
    user.password_hash = await hash_password(data.new_password, settings.bcrypt_rounds)
    await revoke_all_of_user(session, user.id)
    await session.flush()


async def erase_user(session: AsyncSession, user_id: int) -> list[str]:
    """An account being erased: every refresh token and mailed token deleted (nothing of it can sign in or be
    confirmed); the addresses tokens were mailed to, so the mail outbox can forget them too."""
    return await repository.erase_user(session, user_id)


async def revoke_all_of_user(session: AsyncSession, user_id: int, at: datetime | None = None) -> int:
    """Sign every refresh token of the user out (a password change, the account deactivated): the one way to do
    it, for every domain. Access tokens stop on their own (the principal loader checks the account)."""
    return await repository.revoke_all_of_user(session, user_id, at or datetime.now(UTC))


async def revoke_all_of_users(session: AsyncSession, user_ids: Select[int], at: datetime) -> int:
    """`revoke_all_of_user` for every user a query selects (a university turning on `sso_required`)."""
    return await repository.revoke_all_of_users(session, user_ids, at)
