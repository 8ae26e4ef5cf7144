"""Data exports and erasure: an export is its owner's alone (anyone else: 404, admins included); an account is
erased by its owner or by a platform admin."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.authz.principal import Principal
from twosigma.kit.errors import not_found
from twosigma.privacy import repository as repo
from twosigma.privacy.models import DataExport
from twosigma.users.models import User


async def own_export(session: AsyncSession, principal: Principal, export_id: int) -> DataExport:
    """The caller's own export; 404 for an unknown id and for anyone else's (a person's data export is nobody
    else's business, a platform admin's neither)."""
    export = await repo.get_export(session, export_id)
    if export is None or export.user_id != principal.id:
        raise not_found("Export", code="export_not_found")
    return export


async def erasable_account(session: AsyncSession, admin: Principal, user_id: int) -> User:
    """The account a platform admin (already checked by the route's `PlatformAdmin`) erases; 404 when there is no
    such account or it is erased already."""
    user = await session.get(User, user_id)
    if user is None or user.erased_at is not None:
        raise not_found("User")
    return user
