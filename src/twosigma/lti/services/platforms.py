"""The platforms a university's admins register by hand (docs/lti.md, "Registering a platform")."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.config import Settings
from twosigma.kit.errors import Conflict
from twosigma.lti import repository
from twosigma.lti.models import LtiPlatform
from twosigma.lti.schemas import PlatformCreate, PlatformRead, PlatformUpdate, ToolEndpoints
from twosigma.tenancy.models import University

LOGIN_PATH = "/lti/login"
LAUNCH_PATH = "/lti/launch"
JWKS_PATH = "/lti/jwks.json"


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
        tool=tool_endpoints(settings),
        created_at=platform.created_at,
        updated_at=platform.updated_at,
    )


async def list_platforms(session: AsyncSession, university: University) -> Sequence[LtiPlatform]:
    return await repository.platforms_of(session, university.id)


async def create_platform(session: AsyncSession, university: University, data: PlatformCreate) -> LtiPlatform:
    """409 `lti_platform_taken` when the (issuer, client_id) is registered already, by this university or another
    (which one is not said)."""
    platform = LtiPlatform(university_id=university.id, **data.model_dump())
    try:
        async with session.begin_nested():
            session.add(platform)
            await session.flush()
    except IntegrityError as exc:
        raise PlatformTaken() from exc
    await session.refresh(platform)
    return platform


async def update_platform(session: AsyncSession, platform: LtiPlatform, data: PlatformUpdate) -> LtiPlatform:
    for name, value in data.model_dump(exclude_unset=True).items():
        if value is not None:
            setattr(platform, name, value)
    await session.flush()
    await session.refresh(platform)
    return platform
