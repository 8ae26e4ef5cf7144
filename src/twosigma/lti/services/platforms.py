"""The platforms a university's admins register by hand (docs/lti.md, "Registering a platform")."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.config import Settings
from twosigma.kit.errors import Conflict, Invalid
from twosigma.lti import repository
from twosigma.lti.models import LtiPlatform
from twosigma.lti.schemas import PlatformCreate, PlatformRead, PlatformUpdate, ToolEndpoints
from twosigma.lti.services import outbound
from twosigma.tenancy.models import University

LOGIN_PATH = "/lti/login"
LAUNCH_PATH = "/lti/launch"
JWKS_PATH = "/lti/jwks.json"


class PlatformUrlRefused(Invalid):
    code = "lti_platform_url_refused"
    default_message = "The platform's URLs must be https URLs on public internet addresses."


async def _check_urls(settings: Settings, data: PlatformCreate | PlatformUpdate) -> None:
    """The URLs the server fetches (token endpoint, JWKS) and the login URL pass the outbound guard (422)."""
    for name in ("auth_login_url", "auth_token_url", "jwks_url"):
        url = getattr(data, name)
        reason = await outbound.refusal(settings, url) if url is not None else None
        if reason is not None:
            raise PlatformUrlRefused(f"{name}: {reason}.", details={"field": name, "reason": reason})


class PlatformTaken(Conflict):
    code = "lti_platform_taken"
    default_message = "This issuer and client id are already registered (one platform belongs to one university)."


def base_url(settings: Settings) -> str:
    return settings.public_base_url.rstrip("/")


def tool_endpoints(settings: Settings) -> ToolEndpoints:
    base = base_url(settings)
    return ToolEndpoints(login_url=base + LOGIN_PATH, launch_url=base + LAUNCH_PATH, jwks_url=base + JWKS_PATH)


def present(settings: Settings, platform: LtiPlatform) -> PlatformRead:
    return PlatformRead(
        id=platform.id,
        university_id=platform.university_id,
        issuer=platform.issuer,
        client_id=platform.client_id,
        deployment_ids=list(platform.deployment_ids),
        auth_login_url=platform.auth_login_url,
        auth_token_url=platform.auth_token_url,
        jwks_url=platform.jwks_url,
        enabled=platform.enabled,
        grant_admin_role=platform.grant_admin_role,
        tool=tool_endpoints(settings),
        created_at=platform.created_at,
        updated_at=platform.updated_at,
    )


async def list_platforms(session: AsyncSession, university: University) -> Sequence[LtiPlatform]:
    return await repository.platforms_of(session, university.id)


async def create_platform(
    session: AsyncSession, settings: Settings, university: University, data: PlatformCreate
) -> LtiPlatform:
    """409 `lti_platform_taken` when the (issuer, client_id) is registered already, by this university or another
    (which one is not said); 422 `lti_platform_url_refused` for a URL the outbound guard refuses."""
    await _check_urls(settings, data)
    platform = LtiPlatform(university_id=university.id, **data.model_dump())
    try:
        async with session.begin_nested():
            session.add(platform)
            await session.flush()
    except IntegrityError as exc:
        raise PlatformTaken() from exc
    await session.refresh(platform)
    return platform


async def update_platform(
    session: AsyncSession, settings: Settings, platform: LtiPlatform, data: PlatformUpdate
) -> LtiPlatform:
    await _check_urls(settings, data)
    for name, value in data.model_dump(exclude_unset=True).items():
        if value is not None:
            setattr(platform, name, value)
    await session.flush()
    await session.refresh(platform)
    return platform
