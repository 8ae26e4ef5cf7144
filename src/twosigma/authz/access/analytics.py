"""The analytics scope: which university's figures (or the platform's) the caller reads."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.analytics import repository as repo
from twosigma.authz.policy import administered_universities, can_view_analytics, ensure
from twosigma.authz.principal import Principal
from twosigma.kit.errors import Forbidden, Invalid, not_found


async def analytics_scope(session: AsyncSession, principal: Principal, university_id: int | None) -> int | None:
    """The university to report on (None: the whole platform), or the refusal. Without `university_id`: the whole
    platform for platform admins, the one university a university admin administers (422 when several)."""
    if university_id is None:
        if principal.is_platform_admin:
            return None
        administered = administered_universities(principal)
        if not administered:
            raise Forbidden("Analytics are for university and platform administrators.")
        if len(administered) > 1:
            raise Invalid(
                "You administer several universities; choose one with university_id.",
                code="university_id_required",
                details={"university_ids": sorted(administered)},
            )
        return next(iter(administered))
    ensure(can_view_analytics(principal, university_id), principal, university_id, resource="University")
    if principal.is_platform_admin and not await repo.university_exists(session, university_id):
        raise not_found("University")
    return university_id
