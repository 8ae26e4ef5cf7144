"""Names and Role Provisioning Services 2.0 (docs/lti.md, "Rosters"): pull a linked LMS course's members through
its platform's membership service, and make the offering's roster match.

Per member (`status` Active): the account of `(platform, user_id)` (found or created, as a launch does), the roles
the LMS gives them mapped as at launch, and for a learner an ACTIVE enrolment. Learners enrolled from this platform
whom the LMS no longer lists as Active are DROPPED. Paged answers (`Link: <…>; rel="next"`) are followed, up to
`MAX_PAGES`. `POST /offerings/{id}/lti/sync-roster` runs it for every linked course of the offering and reports the
counts; the `lti-roster` job queue runs it for each linked course every `lti.roster_sync_hours`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.config import Settings
from twosigma.courses.models import CourseOffering
from twosigma.db.engine import Database
from twosigma.enrollments import service as enrollments
from twosigma.enums import UserRole
from twosigma.jobs.runner import Queue
from twosigma.kit.errors import AppError, Conflict, UpstreamError
from twosigma.lti import repository
from twosigma.lti.models import LtiContext, LtiPlatform
from twosigma.lti.schemas import RosterSyncRead
from twosigma.lti.services import access_tokens, outbound
from twosigma.lti.services.access_tokens import ServiceCallFailed
from twosigma.lti.services.accounts import STAFF_ROLES, grant_roles, map_roles, user_for
from twosigma.system_settings.effective import get_effective_settings

logger = logging.getLogger("twosigma.lti")

QUEUE_NAME = "lti-roster"
MEMBERSHIP_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
MEMBERSHIP_MEDIA_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
HTTP_TIMEOUT_SECONDS = 15.0
MAX_PAGES = 200
CONTEXTS_PER_BATCH = 5


class RosterUnavailable(Conflict):
    code = "lti_roster_unavailable"
    default_message = (
        "No LMS course linked to this offering has sent its membership service yet: launch from it once first."
    )


class RosterFetchFailed(UpstreamError):
    code = "lti_roster_fetch_failed"
    default_message = "The LMS's membership service could not be read; try again shortly."


@dataclass
class Counts:
    members: int = 0
    enrolled: int = 0
    dropped: int = 0
    staff: int = 0


def _next_link(response: httpx.Response) -> str | None:
    link = response.links.get("next")
    url = link.get("url") if link else None
    return url if isinstance(url, str) and url.startswith(("https://", "http://")) else None


async def fetch_members(
    session: AsyncSession, settings: Settings, platform: LtiPlatform, url: str
) -> list[dict[str, Any]]:
    """Every member the membership service lists, page after page."""
    members: list[dict[str, Any]] = []
    row = _TokenRow(platform.id, platform.client_id, platform.auth_token_url)
    tokens = access_tokens.token_cache()
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_SECONDS, follow_redirects=False) as client:
        next_url: str | None = url
        for _ in range(MAX_PAGES):
            if next_url is None:
                break
            reason = await outbound.refusal(settings, next_url)
            if reason is not None:
                raise ServiceCallFailed(f"membership service refused: {reason}", permanent=True)
            token = await tokens.token(session, settings, client, row, MEMBERSHIP_SCOPE)
            try:
                response = await client.get(
                    next_url, headers={"Authorization": f"Bearer {token}", "Accept": MEMBERSHIP_MEDIA_TYPE}
                )
            except httpx.HTTPError as exc:
                raise ServiceCallFailed(
                    f"membership service unreachable ({type(exc).__name__})", permanent=False
                ) from exc
            if response.status_code == 401:
                tokens.drop(platform.id, MEMBERSHIP_SCOPE)
            if response.status_code != 200:
                raise ServiceCallFailed(f"membership service answered HTTP {response.status_code}", permanent=False)
            try:
                page = response.json()
            except ValueError as exc:
                raise ServiceCallFailed("membership service answered no JSON", permanent=False) from exc
            listed = page.get("members") if isinstance(page, dict) else None
            if not isinstance(listed, list):
                raise ServiceCallFailed("membership service answered no members list", permanent=False)
            members += [m for m in listed if isinstance(m, dict)]
            next_url = _next_link(response)
            if next_url is not None and not outbound.same_origin(next_url, url):
                raise ServiceCallFailed(
                    f"membership service's next page {next_url[:200]} is not on its origin", permanent=True
                )
    return members


@dataclass(frozen=True)
class _TokenRow:
    platform_id: int
    client_id: str
    auth_token_url: str


async def sync_context(session: AsyncSession, settings: Settings, context: LtiContext) -> Counts:
    counts = Counts()
    platform = await repository.get_platform(session, context.platform_id)
    if platform is None or not platform.enabled or not context.memberships_url:
        return counts
    members = await fetch_members(session, settings, platform, context.memberships_url)
    department = await repository.department_of_offering(session, context.course_offering_id)
    listed: set[int] = set()
    for member in members:
        sub = member.get("user_id")
        if not isinstance(sub, str) or not 0 < len(sub) <= 255 or member.get("status", "Active") != "Active":
            continue
        roles_claim = member.get("roles")
        roles = map_roles(
            [r for r in roles_claim if isinstance(r, str)] if isinstance(roles_claim, list) else [],
            grant_admin=platform.grant_admin_role,
        )
        claims = {"sub": sub, "email": member.get("email"), "name": member.get("name")}
        try:
            async with session.begin_nested():
                user = await user_for(session, settings, platform, claims)
        except AppError as refusal:  # an inactive account: left as it is
            logger.info("lti roster: member %r skipped: %s", sub[:50], refusal.message)
            continue
        counts.members += 1
        listed.add(user.id)
        await grant_roles(session, platform, user.id, roles, department)
        if roles & STAFF_ROLES:
            counts.staff += 1
        elif UserRole.STUDENT in roles and await enrollments.enroll_from_platform(
            session, user.id, context.course_offering_id
        ):
            counts.enrolled += 1
    for user_id in await repository.enrolled_from_platform(session, platform.id, context.course_offering_id):
        if user_id not in listed and await enrollments.drop_from_platform(session, user_id, context.course_offering_id):
            counts.dropped += 1
    return counts


async def sync_offering(session: AsyncSession, settings: Settings, offering: CourseOffering) -> RosterSyncRead:
    """Sync every linked LMS course of the offering that sent its membership service (409 when none did; 502 when
    the LMS cannot be read, nothing changed)."""
    contexts = [c for c in await repository.contexts_of_offering(session, offering.id) if c.memberships_url]
    if not contexts:
        raise RosterUnavailable()
    total = Counts()
    for context in contexts:
        try:
            counts = await sync_context(session, settings, context)
        except ServiceCallFailed as exc:
            raise RosterFetchFailed(details={"reason": str(exc)}) from exc
        for name in ("members", "enrolled", "dropped", "staff"):
            setattr(total, name, getattr(total, name) + getattr(counts, name))
    return RosterSyncRead(contexts=len(contexts), **total.__dict__)


async def sync_batch(database: Database, settings: Settings, now: datetime) -> int:
    """Take up to `CONTEXTS_PER_BATCH` linked courses whose scheduled sync is due, and sync each; how many."""
    async with database.sessionmaker() as session, session.begin():
        hours = (await get_effective_settings(session, settings)).lti_roster_sync_hours
        if hours <= 0:
            return 0
        ids = await repository.claim_due_contexts(session, now - timedelta(hours=hours), now, CONTEXTS_PER_BATCH)
    for context_id in ids:
        try:
            async with database.sessionmaker() as session, session.begin():
                context = await session.get(LtiContext, context_id)
                if context is not None:
                    counts = await sync_context(session, settings, context)
                    logger.info("lti roster of context %s synced: %s", context_id, counts)
        except ServiceCallFailed as exc:  # tried again at the next due time
            logger.warning("lti roster of context %s not synced: %s", context_id, exc)
    return len(ids)


def roster_queue(settings: Settings) -> Queue:
    async def batch(database: Database, now: datetime) -> int:
        return await sync_batch(database, settings, now)

    return Queue(QUEUE_NAME, batch)
