"""Deep Linking 2.0 (docs/lti.md, "Placing items"): an instructor's `LtiDeepLinkingRequest` launch opens a picker
over the items of the courses they may edit; the tool answers the platform with a signed `LtiDeepLinkingResponse`
of `ltiResourceLink` items, each carrying its item id as the custom parameter `content_item_id`, and a line item
(score maximum 100) for each quiz, so the LMS creates the gradebook column scores go to."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.authz import repository as authz_repository
from twosigma.authz.access import lti as lti_access
from twosigma.config import Settings
from twosigma.enums import UserRole
from twosigma.kit.errors import AppError, Forbidden
from twosigma.lti import repository
from twosigma.lti.models import LtiDeepLink, LtiPlatform
from twosigma.lti.services import keys, platforms
from twosigma.lti.services.accounts import (
    LINKING_ROLES,
    frame_origins,
    grant_roles,
    linking_principal,
    map_roles,
    user_for,
)
from twosigma.lti.services.verification import CONTEXT, DEEP_LINKING, DEPLOYMENT_ID, ROLES, LaunchRefused

DEEP_LINK_LIFETIME = timedelta(minutes=30)
MAX_ITEMS = 50
LTI = "https://purl.imsglobal.org/spec/lti/claim/"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
SCORE_MAXIMUM = 100


class DeepLinkingForbidden(Forbidden):
    code = "lti_deep_linking_forbidden"
    default_message = "Only instructors and administrators place twosigma items in a course."


@dataclass(frozen=True)
class PickerItem:
    id: int
    title: str
    module_title: str
    gradable: bool


@dataclass(frozen=True)
class PickerCourse:
    code: str
    title: str
    items: Sequence[PickerItem]


@dataclass(frozen=True)
class Picker:
    token: str
    courses: Sequence[PickerCourse]
    frame_origins: tuple[str, ...]


@dataclass(frozen=True)
class DeepLinkAnswer:
    """The form that carries the signed response back to the platform."""

    return_url: str
    jwt: str
    frame_origins: tuple[str, ...]


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


async def _picker_courses(session: AsyncSession, user_id: int, university_id: int) -> list[PickerCourse]:
    principal = await authz_repository.load_principal_in(session, user_id)
    assert principal is not None
    _, courses = await lti_access.linkable_offerings(
        session, linking_principal(principal, university_id), university_id
    )
    rows = await repository.items_of_courses(session, [c.id for c in courses])
    by_course: dict[int, list[PickerItem]] = {}
    for row in rows:
        by_course.setdefault(row.course_id, []).append(
            PickerItem(id=row.id, title=row.title, module_title=row.module_title, gradable=bool(row.gradable))
        )
    return [PickerCourse(code=c.code, title=c.title, items=by_course.get(c.id, [])) for c in courses]


async def _grant(
    session: AsyncSession, platform: LtiPlatform, user_id: int, roles: frozenset[UserRole], claims: dict[str, Any]
) -> None:
    """Course roles in the department of the course linked to the request's LMS course; when none is linked yet,
    only the admin role (course roles wait for the link, launch.finish_link)."""
    context = claims.get(CONTEXT)
    context_id = context.get("id") if isinstance(context, dict) else None
    linked = await repository.get_context(session, platform.id, context_id) if isinstance(context_id, str) else None
    if linked is None:
        await grant_roles(session, platform, user_id, roles & {UserRole.UNIVERSITY_ADMIN}, None)
    else:
        department = await repository.department_of_offering(session, linked.course_offering_id)
        await grant_roles(session, platform, user_id, roles, department)


async def start(session: AsyncSession, settings: Settings, platform: LtiPlatform, claims: dict[str, Any]) -> Picker:
    """A verified deep-linking request: the instructor's account and roles, then the picker's token and items."""
    roles = map_roles(claims[ROLES], grant_admin=platform.grant_admin_role)
    if not roles & LINKING_ROLES:
        raise DeepLinkingForbidden(details={"reason": "a deep linking request from a member without a staff role"})
    dl_settings = claims[DEEP_LINKING]
    return_url = dl_settings["deep_link_return_url"]
    if not return_url.startswith(("https://", "http://")) or len(return_url) > 1000:
        raise LaunchRefused("the deep link return URL is not usable")
    data = dl_settings.get("data")
    user = await user_for(session, settings, platform, claims)
    await _grant(session, platform, user.id, roles, claims)
    token = secrets.token_urlsafe(32)
    now = _now()
    origins = frame_origins(platform, claims)
    await repository.add_deep_link(
        session,
        LtiDeepLink(
            token_hash=_hash(token),
            platform_id=platform.id,
            user_id=user.id,
            deployment_id=claims[DEPLOYMENT_ID],
            return_url=return_url,
            data=json.dumps(data) if data is not None else None,
            frame_origins=list(origins),
            expires_at=now + DEEP_LINK_LIFETIME,
        ),
        now,
    )
    return Picker(token, await _picker_courses(session, user.id, platform.university_id), origins)


def _content_item(settings: Settings, item: PickerItem) -> dict[str, Any]:
    link: dict[str, Any] = {
        "type": "ltiResourceLink",
        "title": item.title,
        "url": platforms.tool_endpoints(settings).launch_url,
        "custom": {"content_item_id": str(item.id)},
    }
    if item.gradable:
        link["lineItem"] = {"scoreMaximum": SCORE_MAXIMUM, "label": item.title, "resourceId": str(item.id)}
    return link


async def respond(
    session: AsyncSession, settings: Settings, token: str, item_ids: Sequence[int]
) -> DeepLinkAnswer | AppError:
    """The signed `LtiDeepLinkingResponse` for the chosen items (only items of courses the instructor may edit;
    any other id is refused), or the refusal (returned: the used token must be committed)."""
    row = await repository.take_deep_link(session, _hash(token))
    if row is None or row.expires_at <= _now():
        return LaunchRefused("the picker is unknown, expired or already used")
    platform = await repository.get_platform(session, row.platform_id)
    if platform is None or not platform.enabled:
        return LaunchRefused("the platform is disabled")
    if len(item_ids) > MAX_ITEMS:
        return LaunchRefused(f"more than {MAX_ITEMS} items were chosen")
    available = {
        item.id: item
        for course in await _picker_courses(session, row.user_id, platform.university_id)
        for item in course.items
    }
    unknown = [i for i in item_ids if i not in available]
    if unknown:
        return LaunchRefused(f"items {unknown[:5]} are not items this instructor may place")
    claims: dict[str, Any] = {
        "iss": platform.client_id,
        "aud": platform.issuer,
        "azp": platform.client_id,
        "nonce": secrets.token_urlsafe(16),
        LTI + "deployment_id": row.deployment_id,
        LTI + "message_type": "LtiDeepLinkingResponse",
        LTI + "version": "1.3.0",
        DL + "content_items": [_content_item(settings, available[i]) for i in dict.fromkeys(item_ids)],
    }
    if row.data is not None:
        claims[DL + "data"] = json.loads(row.data)  # echoed as the platform sent it
    jwt = await keys.sign(session, settings, claims)
    return DeepLinkAnswer(row.return_url, jwt, tuple(row.frame_origins))
