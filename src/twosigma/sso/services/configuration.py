"""A university's single sign-on configuration and its joining policy, read and written by its admins
(docs/identity.md); what erasure and chat retention ask of this domain."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.auth import service as auth_service
from twosigma.config import Environment, Settings
from twosigma.kit.errors import Invalid
from twosigma.sso import oidc, repository
from twosigma.sso.models import SsoProvider, UniversityAccessPolicy
from twosigma.sso.schemas import AccessPolicyRead, AccessPolicyWrite, SsoConfigRead, SsoConfigWrite
from twosigma.sso.services.sign_in import SsoNotConfigured, login_url, provider_of
from twosigma.system_settings.crypto import (
    EncryptionKeyInvalid,
    EncryptionNotConfigured,
    Reencrypted,
    UndecryptableSecret,
    mask,
    secret_box,
)
from twosigma.tenancy.models import University

# --- Configuration -------------------------------------------------------------------------------------------------


def _read(settings: Settings, university: University, provider: SsoProvider) -> SsoConfigRead:
    try:
        secret_mask = mask(secret_box(settings).decrypt(provider.client_secret_encrypted))
    except (UndecryptableSecret, EncryptionNotConfigured, EncryptionKeyInvalid):  # the mask alone, as settings do
        secret_mask = mask(None)
    return SsoConfigRead(
        university_id=provider.university_id,
        issuer=provider.issuer,
        client_id=provider.client_id,
        client_secret=secret_mask,
        scopes=list(provider.scopes),
        claim_email=provider.claim_email,
        claim_name=provider.claim_name,
        claim_role=provider.claim_role,
        claim_department=provider.claim_department,
        enabled=provider.enabled,
        authorization_endpoint=provider.authorization_endpoint,
        token_endpoint=provider.token_endpoint,
        jwks_uri=provider.jwks_uri,
        login_url=login_url(settings, university),
        created_at=provider.created_at,
        updated_at=provider.updated_at,
    )


async def read_config(session: AsyncSession, settings: Settings, university: University) -> SsoConfigRead:
    return _read(settings, university, await provider_of(session, university))


async def put_config(
    session: AsyncSession, settings: Settings, university: University, data: SsoConfigWrite
) -> SsoConfigRead:
    """Create or replace the provider, after discovery answered and fits (422 otherwise; nothing is stored)."""
    if settings.environment is Environment.PRODUCTION and not data.issuer.startswith("https://"):
        raise Invalid("The issuer must be an https URL.", details=[{"loc": ["body", "issuer"]}])
    provider = await repository.get_provider(session, university.id)
    if provider is None and data.client_secret is None:
        raise Invalid("client_secret is required the first time.", details=[{"loc": ["body", "client_secret"]}])
    encrypted = secret_box(settings).encrypt(data.client_secret) if data.client_secret is not None else None
    metadata = await oidc.discover(data.issuer, public_only=settings.environment is Environment.PRODUCTION)
    values: dict[str, Any] = data.model_dump(exclude={"client_secret"})
    values.update(
        authorization_endpoint=metadata.authorization_endpoint,
        token_endpoint=metadata.token_endpoint,
        jwks_uri=metadata.jwks_uri,
    )
    if provider is None:
        provider = SsoProvider(university_id=university.id, client_secret_encrypted=encrypted, **values)
        await repository.add(session, provider)
    else:
        for name, value in values.items():
            setattr(provider, name, value)
        if encrypted is not None:
            provider.client_secret_encrypted = encrypted
        await session.flush()
    await session.refresh(provider)
    return _read(settings, university, provider)


async def delete_config(session: AsyncSession, university: University) -> None:
    """The provider goes; identities stay linked (the same issuer configured again finds them). A policy's
    `sso_required` stops applying while no provider is enabled."""
    await repository.delete_row(session, await provider_of(session, university))


async def reencrypt(session: AsyncSession, settings: Settings) -> Reencrypted:
    """Every provider's client secret re-encrypted under the first configured key (`twosigma settings
    rotate-key`); those no configured key opens are left as they are and reported."""
    box = secret_box(settings)
    result = Reencrypted()
    for provider in await repository.all_providers(session, for_update=True):
        label = f"SSO client secret of university {provider.university_id}"
        provider.client_secret_encrypted = result.rotate(box, provider.client_secret_encrypted, label)
    await session.flush()
    return result


async def encrypted_values(session: AsyncSession) -> list[tuple[str, str]]:
    """(label, token) of every provider's client secret: what `twosigma doctor` checks the keys against."""
    providers = await repository.all_providers(session, for_update=False)
    return [(f"SSO client secret of university {p.university_id}", p.client_secret_encrypted) for p in providers]


def _policy_read(university_id: int, policy: UniversityAccessPolicy | None) -> AccessPolicyRead:
    if policy is None:
        return AccessPolicyRead(
            university_id=university_id,
            sso_required=False,
            allowed_email_domains=[],
            require_verified_email=False,
            chat_retention_days=None,
        )
    return AccessPolicyRead(
        university_id=university_id,
        sso_required=policy.sso_required,
        allowed_email_domains=list(policy.allowed_email_domains),
        require_verified_email=policy.require_verified_email,
        chat_retention_days=policy.chat_retention_days,
    )


async def read_policy(session: AsyncSession, university: University) -> AccessPolicyRead:
    return _policy_read(university.id, await repository.get_policy(session, university.id))


async def put_policy(session: AsyncSession, university: University, data: AccessPolicyWrite) -> AccessPolicyRead:
    if data.sso_required:
        provider = await repository.get_provider(session, university.id)
        if provider is None or not provider.enabled:
            raise SsoNotConfigured("sso_required needs an enabled single sign-on provider first.")
    policy = await repository.get_policy(session, university.id)
    if data.sso_required and (policy is None or not policy.sso_required):
        # Sessions signed in with a password before now would otherwise go on being refreshed for ever: from now
        # on the university's provider decides who is signed in, so its members sign in again (through it).
        await auth_service.revoke_all_of_users(
            session, repository.password_bound_member_ids(university.id), datetime.now(UTC)
        )
    if policy is None:
        policy = UniversityAccessPolicy(university_id=university.id, **data.model_dump())
        await repository.add(session, policy)
    else:
        for name, value in data.model_dump().items():
            setattr(policy, name, value)
        await session.flush()
    return _policy_read(university.id, policy)


async def erase_user(session: AsyncSession, user_id: int) -> None:
    """An account being erased: its identities (so the provider's next sign-in creates a fresh account) and any
    unused exchange code."""
    await repository.erase_user(session, user_id)


async def chat_retention(session: AsyncSession) -> Sequence[tuple[int, int]]:
    """(university id, days) of every university whose policy sets `chat_retention_days`."""
    return await repository.chat_retention(session)
