"""Typed dependencies of the settings domain."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from twosigma.db.session import DbSession
from twosigma.kit.deps import AppSettings
from twosigma.system_settings.effective import EffectiveSettings, get_effective_settings


async def effective_settings(session: DbSession, settings: AppSettings) -> EffectiveSettings:
    return await get_effective_settings(session, settings)


# The settings in force for this request (stored > environment > default), secrets decrypted.
Effective = Annotated[EffectiveSettings, Depends(effective_settings)]
