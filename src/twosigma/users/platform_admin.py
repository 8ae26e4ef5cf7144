"""`twosigma admin create`: make (or promote) a PLATFORM_ADMIN.

A role row needs a university. Unless the operator names one, the role is held by a dedicated tenant (the
platform university of tenancy/services/universities.py, created on first use and reused afterwards). The tenancy
rows are written by the tenancy domain; this module only looks a named university up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.auth.passwords import check_password_policy
from twosigma.config import Settings
from twosigma.tenancy.models import University
from twosigma.tenancy.services import universities as tenancy
from twosigma.users import repository
from twosigma.users.fields import Email
from twosigma.users.models import User
from twosigma.users.service import NewAccount, create_user

DEFAULT_FULL_NAME = "Platform administrator"

_email = TypeAdapter(Email)


class AdminCommandError(Exception):
    """A problem the operator must fix; the message says what."""


@dataclass(frozen=True)
class AdminResult:
    user: User
    university: University
    created_user: bool
    granted: bool


def _clean_email(value: str) -> str:
    try:
        return _email.validate_python(value)
    except ValidationError as exc:
        raise AdminCommandError(f"Not a valid email address: {value!r}.") from exc


async def _named_university(session: AsyncSession, ref: str) -> University:
    ref = ref.strip()
    if ref.isdigit():
        found = await session.get(University, int(ref))
        if found is None:
            raise AdminCommandError(f"No university has id {ref}.")
        return found
    matches = list(await session.scalars(select(University).where(func.lower(University.short_code) == ref.lower())))
    if not matches:
        raise AdminCommandError(f"No university has the short code {ref!r}.")
    if len(matches) > 1:
        ids = ", ".join(str(u.id) for u in matches)
        raise AdminCommandError(f"Several universities have the short code {ref!r} (ids {ids}); pass the id instead.")
    return matches[0]


async def create_platform_admin(
    session: AsyncSession,
    settings: Settings,
    *,
    email: str,
    password: str | None,
    full_name: str | None = None,
    university: str | None = None,
    ask_password: Callable[[], str] | None = None,
) -> AdminResult:
    """Create the user (password policy applies) or take the existing one, and grant PLATFORM_ADMIN.

    An existing user keeps their password and name: promotion changes only their roles. A new account without a
    `password` gets one from `ask_password` (the command line's hidden prompt), asked only then.
    """
    address = _clean_email(email)
    target = await _named_university(session, university) if university else await tenancy.platform_university(session)
    user = await repository.get_by_email(session, address)
    created = user is None
    if user is None:
        if not password and ask_password is not None:
            password = ask_password()
        if not password:
            raise AdminCommandError(
                "A new account needs a password: run in a terminal to be asked for it, or pass --password-stdin."
            )
        try:
            check_password_policy(password)
        except ValueError as exc:
            raise AdminCommandError(str(exc)) from exc
        name = (full_name or DEFAULT_FULL_NAME).strip()[:255] or DEFAULT_FULL_NAME
        user = await create_user(session, settings, NewAccount(email=address, password=password, full_name=name))
    granted = await tenancy.grant_platform_admin(session, user.id, target.id)
    return AdminResult(user=user, university=target, created_user=created, granted=granted)
