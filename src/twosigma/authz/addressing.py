"""Loaders for membership administration: the user a staff member may act on, or an error.

"Staff see people only through their own university": a user id from outside it answers exactly like an id nobody
holds (404 `user_not_found`), so ids cannot be walked to find accounts, names or emails.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.authz import membership
from twosigma.authz import repository as repo
from twosigma.authz.principal import Principal
from twosigma.kit.errors import NotFound, not_found
from twosigma.users.models import User


def _user_not_found() -> NotFound:
    return not_found("User", code="user_not_found")


async def member_by_id(session: AsyncSession, p: Principal, university_id: int, user_id: int) -> User:
    """A user addressed by id from `university_id`: any account for platform admins, else members of it only."""
    user = await repo.get_user(session, user_id)
    if user is None:
        raise _user_not_found()
    if not membership.addresses_anyone(p) and not await repo.belongs_to(session, user.id, university_id):
        raise _user_not_found()
    return user


async def member_of(session: AsyncSession, university_id: int, user_id: int) -> User:
    """A member of `university_id`, whoever asks (a suspension is a university's measure on its own members)."""
    user = await repo.get_user(session, user_id)
    if user is None or not await repo.belongs_to(session, user.id, university_id):
        raise _user_not_found()
    return user


async def account_by_email(session: AsyncSession, p: Principal, email: str) -> User:
    """A user addressed directly by email: platform admins only (everyone else gets an invitation instead)."""
    assert membership.addresses_anyone(p), "only platform admins look accounts up by email"
    user = await repo.get_user_by_email(session, email)
    if user is None:
        raise _user_not_found()
    return user


async def addressee(
    session: AsyncSession, p: Principal, university_id: int, *, user_id: int | None, email: str | None
) -> User | None:
    """Whom a grant or a staff enrolment from `university_id` acts on at once, or None when the caller must invite
    `email` instead: by id, a member (any account for platform admins); by email, any account for platform admins
    and an invitation for everyone else, whether or not the address has an account."""
    if user_id is not None:
        return await member_by_id(session, p, university_id, user_id)
    assert email is not None  # the request schemas require exactly one of the two
    if membership.addresses_anyone(p):
        return await account_by_email(session, p, email)
    return None


async def account_for_status_change(session: AsyncSession, p: Principal, user_id: int) -> User:
    """The account whose `is_active` a platform admin sets; 403 for members of the user's universities, else 404."""
    user = await repo.get_user(session, user_id)
    if user is None:
        raise not_found("User")
    if not membership.can_set_account_status(p):
        membership.ensure_account_status_settable(p, await repo.universities_of(session, user.id))
    return user


async def standing_of(session: AsyncSession, user_id: int | None) -> Principal | None:
    """Someone's standing now (their effective grants), or None if the account is gone or deactivated: whose
    authority an invitation was issued on, re-checked when it is accepted."""
    if user_id is None:
        return None
    principal = await repo.load_principal_in(session, user_id)
    if principal is None or not principal.user.is_active:
        return None
    return principal
