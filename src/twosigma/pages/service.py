"""What the pages do: the same services as the API, each in a savepoint, so a refusal rendered as a page (not
raised through the unit of work) leaves nothing half done."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.auth import account
from twosigma.auth import service as auth
from twosigma.authz.access.invitations import invitation_by_token
from twosigma.authz.repository import load_principal_in
from twosigma.config import Settings
from twosigma.invitations.schemas import AcceptedInvitation
from twosigma.invitations.services import acceptance
from twosigma.invitations.services.invitations import token_hash
from twosigma.kit.errors import Unauthorized
from twosigma.kit.ratelimit import RateLimiter


async def reset_password(
    session: AsyncSession, settings: Settings, token: str, new_password: str, now: datetime
) -> None:
    async with session.begin_nested():
        await account.reset_password(session, settings, token, new_password, now)


async def verify_email(session: AsyncSession, token: str, now: datetime) -> str:
    async with session.begin_nested():
        user = await account.verify_email(session, token, now)
        return user.email


async def accept_invitation(
    session: AsyncSession,
    settings: Settings,
    limiter: RateLimiter,
    address: str,
    token: str,
    email: str,
    password: str,
    now: datetime,
) -> AcceptedInvitation:
    """Sign in (login's rules, limits and equal work) and accept the invitation the token names, as that account."""
    user = await auth.authenticate(session, settings, limiter, address, email, password)
    principal = await load_principal_in(session, user.id)
    if principal is None:
        raise Unauthorized("The token is not valid.", code="invalid_token")
    invitation = await invitation_by_token(session, principal, token_hash(token))
    async with session.begin_nested():
        return await acceptance.accept(session, principal, invitation, now, token)
