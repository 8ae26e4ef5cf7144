"""An LTI 1.3 launch (docs/lti.md, "Launch"): the OIDC third-party initiated login, then the launch itself.

`start_login` stores a state row (the SHA-256 of `state`, the nonce, 10 minutes) and answers the platform's
authorization URL with the state, which the router binds to the browser in a cookie. `launch` deletes that row (a
state, and with it its nonce, works once), refuses a browser without the state's cookie, verifies the `id_token`
(services/verification.py) and only then writes: the user linked by `(issuer, sub)`, the roles the claims map to,
a learner's ACTIVE enrolment, and a one-time code (hashed, 60 seconds) that `exchange` turns into the token pair.
An instructor launching from an LMS course no offering is linked to is asked which offering (or which course to
open a new offering of) on a page carrying a pending-link token; a learner there is told the course is not set up
yet, and nothing is written.

`launch` and `finish_link` *return* their refusals instead of raising them: the request's unit of work then commits
the deleted state, so a refused launch cannot be replayed either. Everything they write happens in a savepoint that
a refusal rolls back, so a refused launch leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.auth import service as auth_service
from twosigma.auth.schemas import TokenPair
from twosigma.authz import repository as authz_repository
from twosigma.authz.access import lti as lti_access
from twosigma.config import Settings
from twosigma.courses.models import Course, CourseOffering
from twosigma.courses.schemas import OfferingCreate
from twosigma.courses.services import offerings as offerings_service
from twosigma.enrollments import service as enrollments
from twosigma.enums import UserRole, Visibility
from twosigma.kit.errors import AppError, BadRequest, Conflict
from twosigma.kit.params import INT4_MAX
from twosigma.kit.ratelimit import RateLimiter
from twosigma.lti import repository
from twosigma.lti.models import LtiContext, LtiLaunchCode, LtiLoginState, LtiPendingLink, LtiPlatform
from twosigma.lti.schemas import ContextLink, ContextRead
from twosigma.lti.services import deep_linking, grades, outbound, platforms
from twosigma.lti.services.accounts import (
    LINKING_ROLES,
    STAFF_ROLES,
    frame_origins,
    grant_roles,
    linking_principal,
    map_roles,
    text,
    user_for,
)
from twosigma.lti.services.deep_linking import Picker
from twosigma.lti.services.verification import (
    AGS,
    CONTEXT,
    CUSTOM,
    DEEP_LINKING_REQUEST,
    LAUNCH_PRESENTATION,
    MESSAGE_TYPE,
    NRPS,
    ROLES,
    ExpectedLaunch,
    LaunchRefused,
    verify,
)
from twosigma.users.models import User

logger = logging.getLogger("twosigma.lti")

STATE_LIFETIME = timedelta(minutes=10)
CODE_LIFETIME = timedelta(seconds=60)
PENDING_LIFETIME = timedelta(minutes=10)
LOGINS_PER_ADDRESS = "60/minute"  # a person starts a few; a script filling lti_login_states starts thousands
LAUNCHED_PATH = "/lti/launched"
STATE_COOKIE_PREFIX = "ts_lti_state_"
STATE_COOKIE_PATH = "/lti/"


class ContextNotSetUp(Conflict):
    code = "lti_context_not_linked"
    default_message = (
        "This course is not set up yet: your instructor has to open it once from the LMS before students can."
    )


class LaunchCodeInvalid(BadRequest):
    code = "lti_code_invalid"
    default_message = "This launch code is unknown, expired or already used; open the link from your course again."


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def refuse(refusal: AppError, where: str) -> AppError:
    reason = refusal.details.get("reason") if isinstance(refusal.details, dict) else None
    logger.warning("lti %s refused: %s", where, reason or refusal.message, extra={"code": refusal.error_code})
    return refusal


# --- The login ---------------------------------------------------------------------------------------------------


async def _platform_for_login(
    session: AsyncSession, issuer: str, client_id: str | None, deployment: str | None
) -> LtiPlatform:
    """The platform by `(issuer, client_id)`; without a client id, the one platform of the issuer, or among several
    (Canvas cloud instances share one issuer) the one whose registered deployments hold `lti_deployment_id`."""
    if client_id:
        platform = await repository.platform_by_client(session, issuer, client_id)
        if platform is not None and platform.enabled:
            return platform
        raise LaunchRefused(f"no enabled platform is registered for issuer {issuer!r} and client id {client_id!r}")
    candidates = list(await repository.enabled_platforms_of_issuer(session, issuer))
    if len(candidates) > 1 and deployment:
        candidates = [p for p in candidates if deployment in p.deployment_ids]
    if len(candidates) != 1:
        raise LaunchRefused(
            f"issuer {issuer!r} names {'no' if not candidates else 'several'} registered platforms"
            + ("" if len(candidates) < 2 else "; the login request must carry client_id or lti_deployment_id")
        )
    return candidates[0]


@dataclass(frozen=True)
class LoginStart:
    """Where the browser goes (the platform's authorization URL), and the state the browser's cookie is bound to."""

    url: str
    state: str


def browser_binding(state: str) -> str:
    """What the login's cookie holds: a hash of the state (never the state itself, nor its stored hash)."""
    return hashlib.sha256(f"twosigma-lti-browser:{state}".encode()).hexdigest()


def state_cookie_name(state: str) -> str:
    """One cookie per login, named after its state, so two launches in one browser (two frames) do not collide."""
    return f"{STATE_COOKIE_PREFIX}{_hash(state)[:16]}"


class BrowserMismatch(BadRequest):
    code = "lti_browser_mismatch"
    default_message = (
        "This launch did not start in this browser (its sign-in cookie is missing or does not match). Open the "
        "link from your course again; if it keeps failing, allow cookies for this site in your browser."
    )


async def start_login(
    session: AsyncSession, settings: Settings, limiter: RateLimiter, address: str, params: Mapping[str, str]
) -> LoginStart:
    """The platform's authorization URL for this login (its state and nonce stored), and the state."""
    await limiter.hit(LOGINS_PER_ADDRESS, "lti-login:address", address, message="Too many launches; try again shortly.")
    issuer, login_hint = params.get("iss"), params.get("login_hint")
    if not issuer or not login_hint or not params.get("target_link_uri"):
        raise LaunchRefused("the login request lacks iss, login_hint or target_link_uri")
    deployment = params.get("lti_deployment_id")
    platform = await _platform_for_login(session, issuer, params.get("client_id"), deployment)
    if deployment and deployment not in platform.deployment_ids:
        raise LaunchRefused(f"the deployment id {deployment[:100]!r} is not registered for this platform")
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = _now()
    await repository.add_state(
        session,
        LtiLoginState(state_hash=_hash(state), platform_id=platform.id, nonce=nonce, expires_at=now + STATE_LIFETIME),
        now,
    )
    query = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": platform.client_id,
        "redirect_uri": platforms.tool_endpoints(settings).launch_url,
        "login_hint": login_hint,
        "state": state,
        "nonce": nonce,
    }
    if params.get("lti_message_hint"):
        query["lti_message_hint"] = params["lti_message_hint"]
    separator = "&" if "?" in platform.auth_login_url else "?"
    return LoginStart(f"{platform.auth_login_url}{separator}{urlencode(query)}", state)


# --- The launch ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Launched:
    """Where the browser goes next (303), and the origins that may frame the pages it opens."""

    url: str
    frame_origins: tuple[str, ...]


@dataclass(frozen=True)
class LinkChoice:
    """An instructor's launch into an unlinked LMS course: the page asking which offering it is."""

    token: str
    context_title: str | None
    offerings: Sequence[tuple[CourseOffering, Course]]
    courses: Sequence[Course]
    frame_origins: tuple[str, ...] = field(default=())


def _content_item_id(claims: Mapping[str, Any]) -> int | None:
    custom = claims.get(CUSTOM)
    value = custom.get("content_item_id") if isinstance(custom, dict) else None
    if value is None or value == "":
        return None
    try:
        number = int(str(value))
    except ValueError:
        number = 0
    if not 1 <= number <= INT4_MAX:
        raise LaunchRefused(f"the custom parameter content_item_id {str(value)[:50]!r} is not an item id")
    return number


def _claim_url(claims: Mapping[str, Any], claim: str, name: str) -> str | None:
    value = claims.get(claim)
    url = value.get(name) if isinstance(value, dict) else None
    return url if isinstance(url, str) and url.startswith(("https://", "http://")) and len(url) <= 1000 else None


def _service_url(
    platform: LtiPlatform, claims: Mapping[str, Any], url: str | None, memberships_url: str | None
) -> str | None:
    """An AGS URL of a launch, kept only on one of the platform's own origins: its issuer's, its registered
    endpoints', the launch's membership service's or the LMS page's it came from (Canvas serves them from the
    school's host, not its issuer's)."""
    if url is None:
        return None
    presentation = claims.get(LAUNCH_PRESENTATION)
    page = presentation.get("return_url") if isinstance(presentation, dict) else None
    hosts = (platform.issuer, platform.auth_login_url, platform.auth_token_url, platform.jwks_url, memberships_url)
    if any(isinstance(other, str) and outbound.same_origin(url, other) for other in (*hosts, page)):
        return url
    logger.warning("lti launch: line item %r ignored: not on the platform's origins", url[:200])
    return None


async def launch(
    session: AsyncSession, settings: Settings, id_token: str | None, state: str | None, browser: str | None
) -> Launched | LinkChoice | Picker | AppError:
    """`Launched`, `LinkChoice` or the refusal (returned: the used state must be committed). `browser` is the value
    of the state's cookie as this browser sent it: the launch must come from the browser that started the login."""
    if not state or not id_token:
        return refuse(LaunchRefused("the launch lacks id_token or state"), "launch")
    row = await repository.take_state(session, _hash(state))
    if row is None or row.expires_at <= _now():
        return refuse(LaunchRefused("the state is unknown, expired or already used"), "launch")
    if browser is None or not secrets.compare_digest(browser, browser_binding(state)):
        reason = "the state's browser cookie is missing" if browser is None else "the state's browser cookie differs"
        return refuse(BrowserMismatch(details={"reason": reason}), "launch")
    platform = await repository.get_platform(session, row.platform_id)
    try:
        if platform is None or not platform.enabled:
            raise LaunchRefused("the platform is disabled")
        refused = await outbound.refusal(settings, platform.jwks_url)
        if refused is not None:
            raise LaunchRefused(f"the platform's JWKS URL is refused: {refused}")
        claims = await verify(
            id_token,
            ExpectedLaunch(
                issuer=platform.issuer,
                client_id=platform.client_id,
                nonce=row.nonce,
                deployment_ids=tuple(platform.deployment_ids),
                jwks_url=platform.jwks_url,
            ),
        )
        if claims.get(MESSAGE_TYPE) == DEEP_LINKING_REQUEST:
            async with session.begin_nested():
                return await deep_linking.start(session, settings, platform, claims)
        async with session.begin_nested():
            return await _admit(session, settings, platform, claims)
    except AppError as refusal:
        return refuse(refusal, "launch")


async def _admit(
    session: AsyncSession, settings: Settings, platform: LtiPlatform, claims: dict[str, Any]
) -> Launched | LinkChoice:
    roles = map_roles(claims[ROLES], grant_admin=platform.grant_admin_role)
    context = claims.get(CONTEXT)
    context_id = text(context.get("id"), 255) if isinstance(context, dict) else None
    if context_id is None:
        raise LaunchRefused("the launch has no context (an LMS course)")
    title = text(context.get("title"), 255) if isinstance(context, dict) else None
    item_id = _content_item_id(claims)
    memberships_url = _claim_url(claims, NRPS, "context_memberships_url")
    lineitem = _service_url(platform, claims, _claim_url(claims, AGS, "lineitem"), memberships_url)
    origins = frame_origins(platform, claims)
    linked = await repository.get_context(session, platform.id, context_id)
    if linked is None and not roles & LINKING_ROLES:
        raise ContextNotSetUp(details={"reason": f"context {context_id!r} is linked to no offering"})
    user = await user_for(session, settings, platform, claims)
    if linked is None:  # course roles wait for the offering chosen (finish_link): only the admin role now
        await grant_roles(session, platform, user.id, roles & {UserRole.UNIVERSITY_ADMIN}, None)
        return await _ask_for_offering(session, platform, user, context_id, title, memberships_url, item_id, origins)
    department = await repository.department_of_offering(session, linked.course_offering_id)
    await grant_roles(session, platform, user.id, roles, department)
    if memberships_url:
        linked.memberships_url = memberships_url
    if title:
        linked.title = title
    if not roles & STAFF_ROLES:
        await enrollments.enroll_from_platform(session, user.id, linked.course_offering_id)
    await session.flush()
    await grades.bind_from_launch(session, linked, item_id, lineitem)
    return await _launched(session, settings, user, item_id, origins, linked.course_offering_id)


async def _launched(
    session: AsyncSession,
    settings: Settings,
    user: User,
    item_id: int | None,
    origins: tuple[str, ...],
    offering_id: int,
) -> Launched:
    """The launched page's URL: the one-time code, the item, and the offering (the page submits quiz attempts in
    it). Ids are no secret: the API checks every read and write against the signed-in account."""
    code = secrets.token_urlsafe(32)
    now = _now()
    await repository.add_code(
        session,
        LtiLaunchCode(
            code_hash=_hash(code), user_id=user.id, frame_origins=list(origins), expires_at=now + CODE_LIFETIME
        ),
        now,
    )
    query: dict[str, Any] = {"code": code}
    if item_id is not None:
        query["content_item_id"] = item_id
    query["offering_id"] = offering_id
    # The web client's page when one is configured (TWOSIGMA_WEB_BASE_URL), else twosigma's own tutor page.
    return Launched(f"{settings.links_base_url}{LAUNCHED_PATH}?{urlencode(query)}", origins)


async def _ask_for_offering(
    session: AsyncSession,
    platform: LtiPlatform,
    user: User,
    context_id: str,
    title: str | None,
    memberships_url: str | None,
    item_id: int | None,
    origins: tuple[str, ...],
) -> LinkChoice:
    principal = await authz_repository.load_principal_in(session, user.id)
    assert principal is not None
    principal = linking_principal(principal, platform.university_id)
    offerings, courses = await lti_access.linkable_offerings(session, principal, platform.university_id)
    by_id = {c.id: c for c in courses}
    token = secrets.token_urlsafe(32)
    now = _now()
    await repository.add_pending(
        session,
        LtiPendingLink(
            token_hash=_hash(token),
            platform_id=platform.id,
            user_id=user.id,
            context_id=context_id,
            context_title=title,
            memberships_url=memberships_url,
            content_item_id=item_id,
            frame_origins=list(origins),
            expires_at=now + PENDING_LIFETIME,
        ),
        now,
    )
    return LinkChoice(token, title, [(o, by_id[o.course_id]) for o in offerings], courses, origins)


async def finish_link(session: AsyncSession, settings: Settings, token: str, choice: str) -> Launched | AppError:
    """Link the pending launch's LMS course to the chosen offering (`offering:<id>`), or to a new offering of the
    chosen course (`course:<id>`), then go on as the launch would have."""
    row = await repository.take_pending(session, _hash(token))
    if row is None or row.expires_at <= _now():
        return refuse(LaunchRefused("the link page is unknown, expired or already used"), "link")
    try:
        platform = await repository.get_platform(session, row.platform_id)
        principal = await authz_repository.load_principal_in(session, row.user_id)
        user = await session.get(User, row.user_id)
        if platform is None or not platform.enabled or principal is None or user is None:
            raise LaunchRefused("the platform or the account is gone")
        kind, _, raw = choice.partition(":")
        if kind not in ("offering", "course") or not raw.isdigit() or not 1 <= int(raw) <= INT4_MAX:
            raise LaunchRefused("no offering or course was chosen")
        linking = linking_principal(principal, platform.university_id)
        async with session.begin_nested():
            if kind == "offering":
                offering = await lti_access.linkable_offering(session, linking, platform.university_id, int(raw))
            else:
                course = await lti_access.linkable_course(session, linking, platform.university_id, int(raw))
                offering = await offerings_service.create_offering(
                    session,
                    course,
                    OfferingCreate(term_name=(row.context_title or "LMS course")[:100], visibility=Visibility.UNLISTED),
                )
            await _link(session, platform, row.context_id, offering.id, row.context_title, row.memberships_url)
            if linking is not principal:  # the LMS course's instructor: instructor in the chosen course's department
                department = await repository.department_of_offering(session, offering.id)
                await grant_roles(session, platform, user.id, frozenset({UserRole.INSTRUCTOR}), department)
            return await _launched(session, settings, user, row.content_item_id, tuple(row.frame_origins), offering.id)
    except AppError as refusal:
        return refuse(refusal, "link")


class ContextLinkedElsewhere(Conflict):
    code = "lti_context_linked"
    default_message = "This LMS course is already linked to another offering."


async def _link(
    session: AsyncSession,
    platform: LtiPlatform,
    context_id: str,
    offering_id: int,
    title: str | None,
    memberships_url: str | None,
) -> LtiContext:
    existing = await repository.get_context(session, platform.id, context_id)
    if existing is not None:
        if existing.course_offering_id != offering_id:
            raise ContextLinkedElsewhere(details={"reason": f"context {context_id!r} is linked to another offering"})
        return existing
    context = LtiContext(
        platform_id=platform.id,
        context_id=context_id,
        course_offering_id=offering_id,
        title=title,
        memberships_url=memberships_url,
    )
    await repository.add(session, context)
    return context


async def link_offering(session: AsyncSession, offering: CourseOffering, data: ContextLink) -> ContextRead:
    """Staff link an LMS course of one of their university's platforms to their offering directly
    (`PUT /offerings/{id}/lti-context`): 409 when the course is linked to another offering already, 404 for a
    platform of another university."""
    platform = lti_access.platform_of_offering(await repository.get_platform(session, data.platform_id), offering)
    context = await _link(session, platform, data.context_id, offering.id, None, None)
    return ContextRead(
        platform_id=context.platform_id,
        context_id=context.context_id,
        course_offering_id=context.course_offering_id,
        title=context.title,
    )


# --- After the launch ----------------------------------------------------------------------------------------------


async def frame_origins_of(session: AsyncSession, code: str) -> tuple[str, ...]:
    """The origins that may frame the page a launch code opens (none for an unknown code)."""
    row = await repository.peek_code(session, _hash(code))
    return tuple(row.frame_origins) if row is not None and row.expires_at > _now() else ()


async def exchange(session: AsyncSession, settings: Settings, code: str) -> TokenPair:
    """The token pair for a launch's one-time code; the code is gone after the first try."""
    row = await repository.take_code(session, _hash(code))
    if row is None or row.expires_at <= _now():
        raise LaunchCodeInvalid()
    user = await session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise LaunchCodeInvalid()
    return await auth_service.issue_pair(session, settings, user.id)


async def erase_user(session: AsyncSession, user_id: int) -> None:
    await repository.erase_user(session, user_id)
