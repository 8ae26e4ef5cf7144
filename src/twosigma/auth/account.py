"""Mailed account flows: password reset, email verification, email change (docs/identity.md).

Tokens: `secrets.token_urlsafe(32)`, only their SHA-256 stored (`account_tokens`), single use (`used_at`, the row
locked while used), expiring (30 minutes for a reset, 7 days for a verification or an email change), and bound to
the account as it was when issued (`fingerprint`: a digest of the user id, email and password hash), so a password
or email change voids every earlier token. The mail is written to the outbox in the same transaction as the token.

No enumeration: `request_password_reset` answers the same (the route: 202 and one body) and does the same bcrypt
work (one computation at the configured cost) whether or not the email has an account; it is limited per email
and per client address before any query.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.auth import repository
from twosigma.auth.models import AccountToken
from twosigma.auth.passwords import hash_password, verify_password
from twosigma.auth.service import InvalidCurrentPassword, revoke_all_of_user
from twosigma.authz.principal import Principal
from twosigma.config import Settings
from twosigma.kit.errors import Conflict, Invalid
from twosigma.kit.ratelimit import RateLimiter
from twosigma.mail import service as mail
from twosigma.users import repository as users_repository
from twosigma.users import service as users_service
from twosigma.users.fields import normalize_email
from twosigma.users.models import User

RESET = "RESET"
VERIFY = "VERIFY"
EMAIL_CHANGE = "EMAIL_CHANGE"
LIFETIMES = {RESET: timedelta(minutes=30), VERIFY: timedelta(days=7), EMAIL_CHANGE: timedelta(days=7)}
RESET_PATH = "/reset-password"
VERIFY_PATH = "/verify-email"
# Per email: a handful of reset mails per quarter hour is plenty for a person and little for a mail bomb.
RESET_PER_EMAIL = "5 per 15 minutes"
# An email change mails an address the caller chose, not their own, with their name in it: per recipient the same
# budget as a reset (nobody's inbox is bombed through other people's accounts), per account a few an hour (an
# account is not a relay for the platform's mail).
EMAIL_CHANGE_PER_ADDRESS = RESET_PER_EMAIL
EMAIL_CHANGE_PER_USER = "5 per hour"


class InvalidAccountToken(Invalid):
    code = "invalid_account_token"
    default_message = "This link is not valid: it was used already, has expired, or was replaced. Ask for a new one."


class EmailAlreadyVerified(Conflict):
    code = "email_already_verified"
    default_message = "This email address is verified already."


class SameEmail(Invalid):
    code = "same_email"
    default_message = "This is the account's email address already."


@dataclass(frozen=True)
class Confirmed:
    user: User
    purpose: str


# The notice to the former address after an email change: `email_changed:{user id}:{token row id}` (the prefix lets
# an erasure find these mails, whose recipient is no longer the account's address).
EMAIL_CHANGED_KEY = "email_changed:"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def fingerprint(user: User) -> str:
    return hashlib.sha256(f"{user.id}\x00{user.email}\x00{user.password_hash}".encode()).hexdigest()


def link(settings: Settings, path: str, token: str) -> str:
    return settings.links_base_url + path + "?" + urlencode({"token": token})


async def _issue(session: AsyncSession, user: User, purpose: str, email: str, now: datetime) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        AccountToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=token_hash(token),
            email=email,
            fingerprint=fingerprint(user),
            expires_at=now + LIFETIMES[purpose],
        )
    )
    await session.flush()
    return token


async def _mail(
    session: AsyncSession,
    settings: Settings,
    user: User,
    *,
    purpose: str,
    template: str,
    path: str,
    email: str,
    now: datetime,
) -> None:
    token = await _issue(session, user, purpose, email, now)
    await mail.enqueue(
        session,
        recipient=email,
        template=template,
        locale=user.locale,
        link=link(settings, path, token),
        values={"name": user.full_name},
        idempotency_key=f"{template}:{token_hash(token)}",
    )


async def _use(
    session: AsyncSession, token: str, purposes: tuple[str, ...], now: datetime
) -> tuple[AccountToken, User]:
    """The token's row and its user, if the token may be used now; it is marked used (in the caller's
    transaction). One error for unknown, used, expired, replaced and wrong-purpose tokens."""
    row = await repository.lock_account_token(session, token_hash(token))
    if row is None or row.purpose not in purposes or row.used_at is not None or row.expires_at <= now:
        raise InvalidAccountToken()
    user = await session.get(User, row.user_id)
    if user is None or not user.is_active or fingerprint(user) != row.fingerprint:
        raise InvalidAccountToken()
    row.used_at = now
    await session.flush()
    return row, user


# --- Password reset -------------------------------------------------------------------------------------------------


async def request_password_reset(
    session: AsyncSession, settings: Settings, limiter: RateLimiter, address: str, email: str, now: datetime
) -> None:
    """Mail a reset link if `email` has an active account; the same answer and the same bcrypt work if not."""
    email = normalize_email(email)
    message = "Too many reset requests; try again later."
    await limiter.hit(
        f"{settings.login_attempts_per_minute}/minute", "password-reset:address", address, message=message
    )
    await limiter.hit(RESET_PER_EMAIL, "password-reset:email", email, message=message)
    user = await users_repository.get_by_email(session, email)
    # Equal work: one bcrypt computation at the configured cost on both paths (a check against the dummy hash),
    # so the time an answer takes does not say whether the account exists (a login does the same amount).
    await verify_password(secrets.token_urlsafe(16), None, settings.bcrypt_rounds)
    if user is None or not user.is_active:
        return
    await _mail(
        session, settings, user, purpose=RESET, template="password_reset", path=RESET_PATH, email=user.email, now=now
    )


async def reset_password(
    session: AsyncSession, settings: Settings, token: str, new_password: str, now: datetime
) -> None:
    """Set the password, sign every session out; the token (and every other one of the account) is spent."""
    _, user = await _use(session, token, (RESET,), now)
    user.password_hash = await hash_password(new_password, settings.bcrypt_rounds)
    # The link arrived at the account's address: that address is proven too.
    await users_service.mark_email_verified(session, user, now)
    await revoke_all_of_user(session, user.id, now)
    await session.flush()


# --- Verification and email change ----------------------------------------------------------------------------------


async def request_verification(
    session: AsyncSession, settings: Settings, limiter: RateLimiter, principal: Principal, now: datetime
) -> None:
    await limiter.hit(
        f"{settings.login_attempts_per_minute}/minute",
        "verify-email:user",
        str(principal.id),
        message="Too many verification mails; try again shortly.",
    )
    user = await users_service.load_self(session, principal)
    if user.email_verified_at is not None:
        raise EmailAlreadyVerified()
    await _mail(
        session, settings, user, purpose=VERIFY, template="verify_email", path=VERIFY_PATH, email=user.email, now=now
    )


async def request_email_change(
    session: AsyncSession,
    settings: Settings,
    limiter: RateLimiter,
    principal: Principal,
    new_email: str,
    password: str,
    now: datetime,
) -> None:
    """Check the password and mail a confirmation link to `new_email`; the address changes only when it is used."""
    await limiter.hit(
        f"{settings.login_attempts_per_minute}/minute",
        "change-password:user",
        str(principal.id),
        message="Too many password attempts; try again shortly.",
    )
    user = await users_service.load_self(session, principal)
    if not await verify_password(password, user.password_hash, settings.bcrypt_rounds):
        raise InvalidCurrentPassword()
    new_email = normalize_email(new_email)
    if new_email == user.email.lower():
        raise SameEmail()
    if await users_repository.email_exists(session, new_email):
        raise users_service.EmailTaken()
    message = "Too many email change requests; try again later."
    await limiter.hit(EMAIL_CHANGE_PER_USER, "email-change:user", str(principal.id), message=message)
    await limiter.hit(EMAIL_CHANGE_PER_ADDRESS, "email-change:address", new_email, message=message)
    await _mail(
        session,
        settings,
        user,
        purpose=EMAIL_CHANGE,
        template="email_change",
        path=VERIFY_PATH,
        email=new_email,
        now=now,
    )


async def verify_email(session: AsyncSession, token: str, now: datetime) -> User:
    """A verification link marks the address verified; an email-change link moves the account to its address."""
    row, user = await _use(session, token, (VERIFY, EMAIL_CHANGE), now)
    if row.purpose == EMAIL_CHANGE:
        old_email = user.email
        await users_service.change_email(session, user, row.email, now)
        # The former address hears of it (no link: it says how to react), in the same transaction as the change.
        await mail.enqueue(
            session,
            recipient=old_email,
            template="email_changed",
            locale=user.locale,
            link="",
            values={"name": user.full_name, "target": row.email},
            idempotency_key=f"{EMAIL_CHANGED_KEY}{user.id}:{row.id}",
        )
    elif row.email.lower() == user.email.lower():
        await users_service.mark_email_verified(session, user, now)
    else:
        raise InvalidAccountToken()
    await session.flush()
    return user
