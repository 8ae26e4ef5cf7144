"""Every secret the database stores encrypted, across the domains that own them: the platform's secret settings,
each university's secret settings (governance), the LTI tool's private keys, each university's SSO client secret.

Each domain re-encrypts and lists its own rows (a domain writes only its own tables); this module only runs them
all: `twosigma settings rotate-key` re-encrypts everything in one transaction, `twosigma doctor` checks that the
configured keys open everything. A new encrypted column gets a `reencrypt` and an `encrypted_values` in its domain
and a line in OWNERS below.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.config import Settings
from twosigma.governance.services import university_settings
from twosigma.lti.services import keys as lti_keys
from twosigma.sso.services import configuration as sso_configuration
from twosigma.system_settings import service as system_settings
from twosigma.system_settings.crypto import Reencrypted


@dataclass(frozen=True)
class Owner:
    label: str  # what the rotation command counts, plural
    reencrypt: Callable[[AsyncSession, Settings], Awaitable[Reencrypted]]
    encrypted_values: Callable[[AsyncSession], Awaitable[list[tuple[str, str]]]]


async def _settings_reencrypt(session: AsyncSession, settings: Settings) -> Reencrypted:
    return await system_settings.reencrypt(session, settings)


OWNERS = (
    Owner("setting(s)", _settings_reencrypt, system_settings.encrypted_values),
    Owner("university setting(s)", university_settings.reencrypt, university_settings.encrypted_values),
    Owner("LTI tool key(s)", lti_keys.reencrypt, lti_keys.encrypted_values),
    Owner("SSO client secret(s)", sso_configuration.reencrypt, sso_configuration.encrypted_values),
)


@dataclass(frozen=True)
class Rotation:
    by_owner: list[tuple[str, Reencrypted]]

    @property
    def failed(self) -> list[str]:
        return [label for _, result in self.by_owner for label in result.failed]

    def summary(self) -> str:
        counts = [f"{result.rotated} {label}" for label, result in self.by_owner]
        return f"Re-encrypted {', '.join(counts[:-1])} and {counts[-1]} under the first key."


async def rotate_every_secret(session: AsyncSession, settings: Settings) -> Rotation:
    """Every stored secret re-encrypted under the first configured key, each by its owning domain."""
    return Rotation([(owner.label, await owner.reencrypt(session, settings)) for owner in OWNERS])


async def every_encrypted_value(session: AsyncSession) -> list[tuple[str, str]]:
    """(label, token) of every stored secret."""
    found: list[tuple[str, str]] = []
    for owner in OWNERS:
        found += await owner.encrypted_values(session)
    return found
