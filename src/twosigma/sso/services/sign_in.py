"""Signing in through a university's OpenID Connect provider (docs/identity.md, "Single sign-on").

A sign-in: `start_login` stores a state row (the SHA-256 of `state`, the nonce and the PKCE verifier, 10 minutes)
and answers the provider's authorization URL; `finish_login` deletes that row (so a state works once), exchanges
the code, validates the ID token, links or creates the user and answers the client's URL with a one-time code
(stored hashed, 2 minutes); `exchange` deletes the code's row and answers the usual token pair. No token travels
in a URL.

`finish_login` *returns* its refusals instead of raising them, like auth's refresh: the request's unit of work
then commits the deleted state, so a refused callback cannot be replayed either.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from pydantic import TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.auth import service as auth_service
from twosigma.auth.schemas import TokenPair
from twosigma.authz.access.sso import ensure_email_domain_allowed, ensure_may_link_by_email
from twosigma.config import Settings
from twosigma.kit.errors import AppError, BadRequest, Conflict, Forbidden, not_found
from twosigma.kit.fields import Email
from twosigma.kit.ratelimit import RateLimiter
from twosigma.sso import oidc, repository
from twosigma.sso.models import SsoExchangeCode, SsoIdentity, SsoLoginState, SsoProvider
from twosigma.system_settings.crypto import (
    UndecryptableSecret,
    secret_box,
)
from twosigma.tenancy.models import University
from twosigma.tenancy.services import universities as tenancy
from twosigma.users import repository as users_repository
from twosigma.users import service as users_service
from twosigma.users.models import User

STATE_LIFETIME = timedelta(minutes=10)
# The browser's half of a sign-in: set by the login redirect, sent back only to the callback (HttpOnly, SameSite=Lax
# so the provider's top-level redirect carries it).
STATE_COOKIE = "twosigma_sso_state"
CODE_LIFETIME = timedelta(minutes=2)
LOGIN_STARTS_PER_ADDRESS = "30/minute"  # a person starts a few; a script filling sso_login_states starts thousands
CALLBACK_PATH = "/api/v1/auth/sso/callback"
COMPLETE_PATH = "/api/v1/auth/sso/complete"  # this server's page when there is no TWOSIGMA_WEB_BASE_URL
WEB_COMPLETE_PATH = "/sso/complete"
_EMAIL = TypeAdapter(Email)


class SsoNotConfigured(Conflict):
    code = "sso_not_configured"
    default_message = "This university has no single sign-on provider."


class SsoStateInvalid(BadRequest):
    code = "sso_state_invalid"
    default_message = "This sign-in is unknown, expired or already used; start again."


class SsoProviderDenied(BadRequest):
    code = "sso_provider_denied"
    default_message = "The identity provider did not sign you in."


class SsoEmailMissing(BadRequest):
    code = "sso_email_missing"
    default_message = "The identity provider sent no usable email address."


class SsoEmailUnverified(Conflict):
    code = "sso_email_unverified"
    default_message = (
        "An account with this email exists, and the identity provider does not assert the address is verified, "
        "so the sign-in cannot be linked to it."
    )


class SsoCodeInvalid(BadRequest):
    code = "sso_code_invalid"
    default_message = "This sign-in code is unknown, expired or already used."


class AmbiguousUniversity(Conflict):
    code = "ambiguous_university"
    default_message = "Several universities have this short code; add ?country=<ISO code>."


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def _base(settings: Settings) -> str:
    return settings.public_base_url.rstrip("/")


def redirect_uri(settings: Settings) -> str:
    return _base(settings) + CALLBACK_PATH


def state_cookie_path(settings: Settings) -> str:
    """The callback's path as the browser sees it (under any prefix of TWOSIGMA_PUBLIC_BASE_URL)."""
    return urlsplit(redirect_uri(settings)).path


def login_url(settings: Settings, university: University) -> str:
    return f"{_base(settings)}/api/v1/auth/sso/{university.short_code}/login"


async def provider_of(session: AsyncSession, university: University) -> SsoProvider:
    """The university's provider configuration, or 404."""
    provider = await repository.get_provider(session, university.id)
    if provider is None:
        raise not_found("Single sign-on configuration")
    return provider


# --- Signing in ----------------------------------------------------------------------------------------------------


async def _university_for_login(session: AsyncSession, short_code: str, country: str | None) -> University:
    universities = await repository.universities_with_provider(session, short_code, country)
    if not universities:
        raise not_found("Single sign-on for this university")
    if len(universities) > 1:
        raise AmbiguousUniversity()
    return universities[0]


@dataclass(frozen=True)
class LoginStart:
    """Where to send the browser, and the state it must carry back in `STATE_COOKIE` (its binding to that browser)."""

    url: str
    state: str


async def start_login(
    session: AsyncSession,
    settings: Settings,
    limiter: RateLimiter,
    address: str,
    short_code: str,
    country: str | None,
) -> LoginStart:
    """Store the sign-in's state, nonce and PKCE verifier; answer the provider's authorization URL. Anyone may start
    one, and each stores a row for ten minutes: limited per client address (`LOGIN_STARTS_PER_ADDRESS`) before
    anything is read."""
    await limiter.hit(
        LOGIN_STARTS_PER_ADDRESS, "sso-login:address", address, message="Too many sign-ins started; try again shortly."
    )
    university = await _university_for_login(session, short_code, country)
    provider = await provider_of(session, university)
    state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(64)
    now = _now()
    await repository.add_state(
        session,
        SsoLoginState(
            state_hash=_hash(state),
            university_id=university.id,
            nonce=nonce,
            code_verifier=verifier,
            expires_at=now + STATE_LIFETIME,
        ),
        now,
    )
    url = oidc.authorization_url(
        endpoint=provider.authorization_endpoint,
        client_id=provider.client_id,
        scopes=list(provider.scopes),
        redirect_uri=redirect_uri(settings),
        state=state,
        nonce=nonce,
        code_verifier=verifier,
    )
    return LoginStart(url=url, state=state)


async def finish_login(
    session: AsyncSession,
    settings: Settings,
    *,
    code: str | None,
    state: str | None,
    error: str | None,
    browser_state: str | None,
) -> str | AppError:
    """The client's URL carrying a one-time code, or the refusal (returned: the used state must be committed).

    `browser_state` is the `STATE_COOKIE` the browser carries: the callback finishes only in the browser that
    started the sign-in. Without it, someone who signed in at the provider as themselves could send their
    callback link to another person and have that person's client signed in to their account (login CSRF)."""
    if not state or not browser_state or not secrets.compare_digest(state.encode(), browser_state.encode()):
        return SsoStateInvalid()
    row = await repository.take_state(session, _hash(state))
    if row is None or row.expires_at <= _now():
        return SsoStateInvalid()
    try:
        if error is not None or not code:
            raise SsoProviderDenied(details={"provider_error": (error or "no code")[:100]})
        university = await session.get(University, row.university_id)
        provider = await repository.get_provider(session, row.university_id)
        if university is None or provider is None or not provider.enabled:
            raise SsoNotConfigured()
        user = await _sign_in(session, settings, university, provider, row, code)
    except AppError as refusal:
        return refusal
    one_time = secrets.token_urlsafe(32)
    now = _now()
    await repository.add_code(
        session, SsoExchangeCode(code_hash=_hash(one_time), user_id=user.id, expires_at=now + CODE_LIFETIME), now
    )
    query = urlencode({"code": one_time})
    if settings.web_base_url:
        return f"{settings.web_base_url.rstrip('/')}{WEB_COMPLETE_PATH}?{query}"
    return f"{_base(settings)}{COMPLETE_PATH}?{query}"


def _claim_text(claims: dict[str, Any], name: str | None, limit: int) -> str | None:
    value = claims.get(name) if name else None
    if isinstance(value, list):
        value = ",".join(str(v) for v in value)
    if not isinstance(value, str | int) or isinstance(value, bool):
        return None
    text = str(value).strip()
    return text[:limit] or None


def _email_verified(claims: dict[str, Any], claim_email: str) -> bool:
    """Whether the provider asserts the address read from `claim_email` is verified. `email_verified` speaks of the
    standard `email` claim only: an address mapped from another claim (a username, a nickname the person may edit
    at the provider) is never taken as verified."""
    if claim_email != "email":
        return False
    value = claims.get("email_verified")
    return value is True or (isinstance(value, str) and value.lower() == "true")


async def _sign_in(
    session: AsyncSession,
    settings: Settings,
    university: University,
    provider: SsoProvider,
    row: SsoLoginState,
    code: str,
) -> User:
    try:
        client_secret = secret_box(settings).decrypt(provider.client_secret_encrypted)
    except UndecryptableSecret as exc:  # encrypted under a key no longer configured: not a 500 for every sign-in
        raise SsoNotConfigured(
            "The provider's client secret cannot be read with the configured keys; its admin must save it again."
        ) from exc
    id_token = await oidc.exchange_code(
        token_endpoint=provider.token_endpoint,
        client_id=provider.client_id,
        client_secret=client_secret,
        scopes=list(provider.scopes),
        redirect_uri=redirect_uri(settings),
        code=code,
        code_verifier=row.code_verifier,
    )
    claims = await oidc.validate_id_token(
        id_token, jwks_uri=provider.jwks_uri, issuer=provider.issuer, client_id=provider.client_id, nonce=row.nonce
    )
    identity = await repository.get_identity(session, provider.issuer, claims["sub"])
    if identity is None:
        user = await _link(session, settings, university, provider, claims)
        identity = SsoIdentity(user_id=user.id, issuer=provider.issuer, subject=claims["sub"])
        await repository.add(session, identity)
    else:
        found = await session.get(User, identity.user_id)
        assert found is not None  # the identity's foreign key cascades
        user = found
    if not user.is_active:
        raise Forbidden("This account is inactive.", code="account_inactive")
    identity.role_claim = _claim_text(claims, provider.claim_role, 255)
    identity.department_claim = _claim_text(claims, provider.claim_department, 255)
    identity.last_login_at = _now()
    await session.flush()
    await tenancy.ensure_student_role(session, user.id, university.id)
    return user


async def _link(
    session: AsyncSession, settings: Settings, university: University, provider: SsoProvider, claims: dict[str, Any]
) -> User:
    """The account a first sign-in of `(issuer, sub)` belongs to: an existing one only when the provider asserts the
    email is verified, else a new one; either way only for an admitted email domain."""
    raw = _claim_text(claims, provider.claim_email, 320)
    try:
        email = _EMAIL.validate_python(raw) if raw else None
    except ValidationError:
        email = None
    if email is None:
        raise SsoEmailMissing(details={"claim": provider.claim_email})
    policy = await repository.get_policy(session, university.id)
    ensure_email_domain_allowed(policy, email)
    existing = await users_repository.get_by_email(session, email)
    if existing is not None:
        # Never by email alone: the provider must assert the address is verified (and its domain is admitted),
        # and it may speak only for accounts of its own university (authz/access/sso.py).
        if not _email_verified(claims, provider.claim_email):
            raise SsoEmailUnverified()
        await ensure_may_link_by_email(session, existing.id, university.id)
        if existing.email_verified_at is None:
            await _unseat_squatter(session, existing)
        return existing
    name = _claim_text(claims, provider.claim_name, 255) or email.partition("@")[0][:255]
    return await users_service.create_user(
        session, settings, users_service.NewAccount(email=email, password=None, full_name=name)
    )


async def _unseat_squatter(session: AsyncSession, user: User) -> None:
    """An account whose address was never proven may have been registered by someone else before its owner came
    (pre-account takeover): the provider has now proven the address, so the account's password, which whoever
    registered it knows, stops working and every session of it is signed out. The owner can choose a password again
    by reset (a mail to the address now proven)."""
    now = _now()
    await users_service.reclaim_unverified(session, user, now)
    await auth_service.revoke_all_of_user(session, user.id, now)


async def exchange(session: AsyncSession, settings: Settings, code: str) -> TokenPair:
    """The token pair for a one-time code; the code is gone after the first try."""
    row = await repository.take_code(session, _hash(code))
    if row is None or row.expires_at <= _now():
        raise SsoCodeInvalid()
    user = await session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise SsoCodeInvalid()
    return await auth_service.issue_pair(session, settings, user.id)
