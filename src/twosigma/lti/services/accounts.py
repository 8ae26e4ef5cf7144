"""Who a platform says someone is, and what it says they are: the account of `(issuer, sub)` and the LIS roles
mapped to ours (docs/lti.md, "Admission"); and the origins that may frame the tool's pages for a platform."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.config import Settings
from twosigma.enums import UserRole
from twosigma.kit.fields import Email
from twosigma.lti import repository
from twosigma.lti.models import LtiIdentity, LtiPlatform
from twosigma.lti.services.verification import LAUNCH_PRESENTATION, LaunchRefused
from twosigma.users import repository as users_repository
from twosigma.users import service as users_service
from twosigma.users.models import User

# Accounts a platform creates without an email it asserts get an address no mail reaches (RFC 2606).
NO_MAIL_DOMAIN = "lti.invalid"
_EMAIL = TypeAdapter(Email)

_ROLE_NAMES: dict[str, UserRole] = {
    "Administrator": UserRole.UNIVERSITY_ADMIN,
    "Instructor": UserRole.INSTRUCTOR,
    "TeachingAssistant": UserRole.TA,
    "Learner": UserRole.STUDENT,
    "Student": UserRole.STUDENT,
}
STAFF_ROLES = frozenset({UserRole.UNIVERSITY_ADMIN, UserRole.INSTRUCTOR, UserRole.TA})
LINKING_ROLES = frozenset({UserRole.UNIVERSITY_ADMIN, UserRole.INSTRUCTOR})


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def origin(url: str) -> str | None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}" if port or parts.hostname else None


def map_roles(roles: Sequence[str]) -> frozenset[UserRole]:
    """LIS role URIs (context, institution and system roles; a sub-role such as `Instructor#TeachingAssistant` is
    the sub-role) to ours."""
    mapped = set()
    for role in roles:
        name = role.rpartition("#")[2] if "#" in role else role.rpartition("/")[2]
        if name in _ROLE_NAMES:
            mapped.add(_ROLE_NAMES[name])
    return frozenset(mapped)


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
    """The account of `(issuer, sub)`: found, or created. Never an existing account found by email: a platform's
    admin could otherwise assert anyone's address and be signed in as them."""
    subject = claims["sub"]
    identity = await repository.get_identity(session, platform.issuer, subject)
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
        email = f"lti-{_hash(platform.issuer + ' ' + subject)[:24]}@{NO_MAIL_DOMAIN}"
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
