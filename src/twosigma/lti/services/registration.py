"""LTI Dynamic Registration 1.0 (docs/lti.md, "Dynamic registration"): a university's admin makes a single-use,
expiring registration link; the LMS's admin pastes it into the LMS, which opens it with `openid_configuration` and
`registration_token` added. The tool then reads the platform's configuration, posts its own registration to the
platform's registration endpoint, stores the platform it gets back for the link's university, and shows a
confirmation page that tells the LMS it may close it (`org.imsglobal.lti.close`).

The configuration URL must be on the origin (scheme, host, port: compared parsed, not as a string prefix) of the
issuer it names (Dynamic Registration §3.5.1); every URL fetched or stored passes the outbound guard
(services/outbound.py: https on public addresses in production), since who holds the link chooses what the server
fetches. Any failure leaves the link unused and nothing stored.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.authz.principal import Principal
from twosigma.config import Settings
from twosigma.kit.errors import AppError, BadRequest, Conflict
from twosigma.lti import repository
from twosigma.lti.models import LtiPlatform, LtiRegistrationLink
from twosigma.lti.schemas import RegistrationLinkRead
from twosigma.lti.services import outbound, platforms
from twosigma.lti.services.grades import SCORE_SCOPE
from twosigma.lti.services.outbound import same_origin
from twosigma.lti.services.roster import MEMBERSHIP_SCOPE
from twosigma.tenancy.models import University

LINK_LIFETIME = timedelta(days=7)
REGISTER_PATH = "/lti/register"
HTTP_TIMEOUT_SECONDS = 10.0
MAX_DOCUMENT_BYTES = 256 * 1024
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
LINEITEM_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
RESULT_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"


class RegistrationRefused(BadRequest):
    code = "lti_registration_refused"
    default_message = "The LMS could not be registered."

    def __init__(self, reason: str) -> None:
        super().__init__(f"The LMS could not be registered: {reason}.", details={"reason": reason})


class RegistrationLinkInvalid(BadRequest):
    code = "lti_registration_link_invalid"
    default_message = "This registration link is unknown, expired or already used; ask for a new one."


class PlatformAlreadyRegistered(Conflict):
    code = "lti_platform_taken"
    default_message = "This LMS (its issuer and client id) is registered already."


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


async def create_link(
    session: AsyncSession, settings: Settings, principal: Principal, university: University
) -> RegistrationLinkRead:
    token = secrets.token_urlsafe(32)
    expires_at = _now() + LINK_LIFETIME
    await repository.add(
        session,
        LtiRegistrationLink(
            token_hash=_hash(token), university_id=university.id, created_by_id=principal.id, expires_at=expires_at
        ),
    )
    url = f"{platforms.base_url(settings)}{REGISTER_PATH}?{urlencode({'link': token})}"
    return RegistrationLinkRead(url=url, expires_at=expires_at)


@dataclass(frozen=True)
class Registered:
    platform: LtiPlatform
    product: str | None


async def _json(client: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
    try:
        response = await client.request(method, url, **kwargs)
    except httpx.HTTPError as exc:
        raise RegistrationRefused(f"{url} could not be reached ({type(exc).__name__})") from exc
    if not 200 <= response.status_code < 300:
        raise RegistrationRefused(f"{url} answered HTTP {response.status_code}")
    if len(response.content) > MAX_DOCUMENT_BYTES:
        raise RegistrationRefused(f"{url} answered a document too large")
    try:
        document = json.loads(response.content)
    except ValueError as exc:
        raise RegistrationRefused(f"{url} did not answer JSON") from exc
    if not isinstance(document, dict):
        raise RegistrationRefused(f"{url} did not answer a JSON object")
    return document


def _url(document: dict[str, Any], name: str) -> str:
    value = document.get(name)
    if not isinstance(value, str) or not value.startswith(("https://", "http://")) or len(value) > 1000:
        raise RegistrationRefused(f"the platform's configuration has no usable {name}")
    return value


def tool_registration(settings: Settings) -> dict[str, Any]:
    """What the tool asks the platform to register (Dynamic Registration §3.4)."""
    endpoints = platforms.tool_endpoints(settings)
    domain = platforms.base_url(settings).split("://", 1)[-1].split("/", 1)[0]
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": endpoints.login_url,
        "redirect_uris": [endpoints.launch_url],
        "client_name": "twosigma",
        "jwks_uri": endpoints.jwks_url,
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join((SCORE_SCOPE, LINEITEM_SCOPE, RESULT_SCOPE, MEMBERSHIP_SCOPE)),
        TOOL_CONFIGURATION: {
            "domain": domain,
            "target_link_uri": endpoints.launch_url,
            "claims": ["iss", "sub", "name", "given_name", "family_name", "email"],
            "messages": [{"type": "LtiDeepLinkingRequest", "target_link_uri": endpoints.launch_url}],
            "description": "AI-tutored learning: course items, quizzes and a tutor beside them.",
        },
    }


async def register(
    session: AsyncSession,
    settings: Settings,
    link_token: str,
    openid_configuration: str | None,
    registration_token: str | None,
) -> Registered | AppError:
    """Register the LMS for the link's university; the refusal is returned (the page shows it)."""
    link = await repository.registration_link_for_update(session, _hash(link_token)) if link_token else None
    if link is None or link.used_at is not None or link.expires_at <= _now():
        return RegistrationLinkInvalid()
    try:
        if not openid_configuration:
            raise RegistrationRefused("the LMS sent no openid_configuration")
        async with session.begin_nested():
            return await _register(session, settings, link, openid_configuration, registration_token)
    except AppError as refusal:
        return refusal


async def _ensure_fetchable(settings: Settings, url: str) -> None:
    reason = await outbound.refusal(settings, url)
    if reason is not None:
        raise RegistrationRefused(reason)


async def _register(
    session: AsyncSession,
    settings: Settings,
    link: LtiRegistrationLink,
    configuration_url: str,
    registration_token: str | None,
) -> Registered:
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_SECONDS, follow_redirects=False) as client:
        await _ensure_fetchable(settings, configuration_url)
        config = await _json(client, "GET", configuration_url, headers={"Accept": "application/json"})
        issuer = _url(config, "issuer")
        if not same_origin(configuration_url, issuer):
            raise RegistrationRefused("the configuration URL is not on the origin of the issuer it names")
        endpoints = {name: _url(config, name) for name in ("authorization_endpoint", "token_endpoint", "jwks_uri")}
        registration_endpoint = _url(config, "registration_endpoint")
        for url in (*endpoints.values(), registration_endpoint):
            await _ensure_fetchable(settings, url)
        headers = {"Accept": "application/json"}
        if registration_token:
            headers["Authorization"] = f"Bearer {registration_token}"
        answer = await _json(client, "POST", registration_endpoint, json=tool_registration(settings), headers=headers)
    client_id = answer.get("client_id")
    if not isinstance(client_id, str) or not 0 < len(client_id) <= 255:
        raise RegistrationRefused("the platform answered no client_id")
    tool_config = answer.get(TOOL_CONFIGURATION)
    deployment = tool_config.get("deployment_id") if isinstance(tool_config, dict) else None
    platform = LtiPlatform(
        university_id=link.university_id,
        issuer=issuer[:500],
        client_id=client_id,
        deployment_ids=[deployment[:255]] if isinstance(deployment, str) and deployment else [],
        auth_login_url=endpoints["authorization_endpoint"],
        auth_token_url=endpoints["token_endpoint"],
        jwks_url=endpoints["jwks_uri"],
    )
    try:
        async with session.begin_nested():
            session.add(platform)
            await session.flush()
    except IntegrityError as exc:
        raise PlatformAlreadyRegistered() from exc
    link.used_at = _now()
    link.platform_id = platform.id
    await session.flush()
    product = config.get(PLATFORM_CONFIGURATION)
    family = product.get("product_family_code") if isinstance(product, dict) else None
    return Registered(platform, family if isinstance(family, str) else None)
