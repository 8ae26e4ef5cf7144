"""Who a platform says someone is, and what it says they are: the account of `(platform, sub)` and the LIS roles
mapped to ours (docs/lti.md, "Admission"); and the origins that may frame the tool's pages for a platform."""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.authz.principal import Grant, Principal
from twosigma.config import Settings
from twosigma.enums import UserRole
from twosigma.kit.fields import Email
from twosigma.lti import repository
from twosigma.lti.models import LtiIdentity, LtiPlatform
from twosigma.lti.services.verification import LAUNCH_PRESENTATION, LaunchRefused
from twosigma.tenancy.services import universities as tenancy
from twosigma.users import repository as users_repository
from twosigma.users import service as users_service
from twosigma.users.models import User

# Accounts a platform creates without an email it asserts get an address no mail reaches (RFC 2606).
NO_MAIL_DOMAIN = "lti.invalid"
_EMAIL = TypeAdapter(Email)

# Context (membership) roles: the only roles that decide what someone is in a course (docs/lti.md, "Security").
_CONTEXT_ROLES: dict[str, UserRole] = {
    "Administrator": UserRole.INSTRUCTOR,  # the course's administrator: instructor-level in that course, no more
    "Instructor": UserRole.INSTRUCTOR,
    "TeachingAssistant": UserRole.TA,
    "Learner": UserRole.STUDENT,
}
_CONTEXT_PREFIXES = ("http://purl.imsglobal.org/vocab/lis/v2/membership", "urn:lti:role:ims/lis/")
# The institution- and system-level Administrator: a university admin, on platforms that opted in only.
ADMIN_ROLES = frozenset(
    {
        "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator",
        "http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator",
        "urn:lti:instrole:ims/lis/Administrator",
        "urn:lti:sysrole:ims/lis/Administrator",
    }
)
STAFF_ROLES = frozenset({UserRole.UNIVERSITY_ADMIN, UserRole.INSTRUCTOR, UserRole.TA})
LINKING_ROLES = frozenset({UserRole.UNIVERSITY_ADMIN, UserRole.INSTRUCTOR})


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def origin(url: str) -> str | None:
    """`scheme://host[:port]` rebuilt from validated parts (an http(s) scheme, a host in ASCII/IDNA with only
    hostname characters, a numeric port), else None: the result goes into a CSP `frame-ancestors` list, where a
    `;` or a space would start another directive."""
    try:
        parts = urlsplit(url)
        port = parts.port
        host = (parts.hostname or "").encode("idna").decode("ascii")
    except (ValueError, UnicodeError):
        return None
    if parts.scheme not in ("http", "https") or not host:
        return None
    if not _HOST.fullmatch(host):
        try:
            host = f"[{ipaddress.IPv6Address(host).compressed}]"
        except ValueError:
            return None
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


_HOST = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?")


def map_roles(roles: Sequence[str], *, grant_admin: bool = False) -> frozenset[UserRole]:
    """LIS role URIs to ours. Only context (membership) roles decide course roles (a sub-role such as
    `membership/Instructor#TeachingAssistant` is the sub-role; the LTI 1.1 `urn:lti:role:` and the bare short names
    are context roles too); institution and system roles never do. UNIVERSITY_ADMIN only for the institution or
    system Administrator, and only when the platform opted in (`grant_admin`)."""
    mapped = set()
    for role in roles:
        if role in ADMIN_ROLES:
            if grant_admin:
                mapped.add(UserRole.UNIVERSITY_ADMIN)
            continue
        if role.startswith(_CONTEXT_PREFIXES):
            name = role.rpartition("#")[2] if "#" in role else role.rpartition("/")[2]
        elif "/" not in role and "#" not in role and ":" not in role:
            name = role  # a short context role name ("Instructor")
        else:
            continue
        if name in _CONTEXT_ROLES:
            mapped.add(_CONTEXT_ROLES[name])
    return frozenset(mapped)


async def grant_roles(
    session: AsyncSession, platform: LtiPlatform, user_id: int, roles: frozenset[UserRole], department_id: int | None
) -> None:
    """The staff roles of a course of `department_id` (None: a course without a department, or no course): INSTRUCTOR
    and TA scoped to that department, UNIVERSITY_ADMIN university-wide. A learner gets no role (an enrolment)."""
    for role in sorted(roles - {UserRole.STUDENT}):
        scope = None if role is UserRole.UNIVERSITY_ADMIN else department_id
        await tenancy.ensure_role(session, user_id, platform.university_id, role, scope)


def linking_principal(principal: Principal, university_id: int) -> Principal:
    """Who may choose the offering an unlinked LMS course is linked to, or the items a deep-linking request places:
    the LMS course's instructor (a pending link or a deep link exists for a launch with a linking role only) chooses
    among the university's courses as an instructor would, for this choice only; the role stored afterwards is
    scoped to the chosen course's department. A university
    admin chooses as themselves; a member suspended in the university chooses nothing."""
    if UserRole.UNIVERSITY_ADMIN in principal.roles_in(university_id) or principal.is_suspended_in(university_id):
        return principal
    return replace(principal, grants=(*principal.grants, Grant(university_id, UserRole.INSTRUCTOR)))


def frame_origins(platform: LtiPlatform, claims: Mapping[str, Any]) -> tuple[str, ...]:
    """The platform's origins: its issuer, its authorization endpoint, and the LMS page the launch came from (the
    launch presentation's return URL), since an LMS often frames tools from a host other than its issuer's."""
    urls = [platform.issuer, platform.auth_login_url]
    presentation = claims.get(LAUNCH_PRESENTATION)
    if isinstance(presentation, dict) and isinstance(presentation.get("return_url"), str):
        urls.append(presentation["return_url"])
    return tuple(dict.fromkeys(o for o in map(origin, urls) if o))


def text(value: Any, limit: int) -> str | None:
    return value.strip()[:limit] or None if isinstance(value, str) else None


async def user_for(session: AsyncSession, settings: Settings, platform: LtiPlatform, claims: dict[str, Any]) -> User:
    """The account of `(platform, sub)`: found, or created. Never by the issuer alone (another university may register
    a platform of the same issuer and sign a victim's `sub` with its own keys), and never an existing account found
    by email: a platform's admin could otherwise assert anyone's address and be signed in as them."""
    subject = claims["sub"]
    identity = await repository.get_identity(session, platform.id, subject)
    if identity is not None:
        user = await session.get(User, identity.user_id)
        assert user is not None  # the identity's foreign key cascades
        if not user.is_active:
            raise LaunchRefused("the account is inactive", "This account is inactive.", code="account_inactive")
        identity.last_launch_at = _now()
        await session.flush()
        return user
    email = _usable_email(claims.get("email"))
    if email is None or await users_repository.get_by_email(session, email) is not None:
        email = f"lti-{_hash(f'{platform.id} {platform.issuer} {subject}')[:24]}@{NO_MAIL_DOMAIN}"
    name = text(claims.get("name"), 255) or text(claims.get("given_name"), 255) or "LMS user"
    user = await users_service.create_user(
        session, settings, users_service.NewAccount(email=email, password=None, full_name=name)
    )
    await repository.add(
        session,
        LtiIdentity(
            user_id=user.id, platform_id=platform.id, issuer=platform.issuer, subject=subject, last_launch_at=_now()
        ),
    )
    return user


def _usable_email(value: Any) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return str(_EMAIL.validate_python(value))
    except ValidationError:
        return None
