"""Callers shared by the settings tests."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.factories import auth_headers, make_member, make_university
from twosigma.config import Settings
from twosigma.enums import UserRole

Headers = dict[str, str]


@pytest.fixture
async def admin_headers(db: AsyncSession, settings: Settings) -> Headers:
    """A platform administrator."""
    university = await make_university(db)
    return auth_headers(settings, await make_member(db, university, UserRole.PLATFORM_ADMIN))


@pytest.fixture
async def university_admin_headers(db: AsyncSession, settings: Settings) -> Headers:
    """Powerful inside a university, but not over platform settings."""
    university = await make_university(db)
    return auth_headers(settings, await make_member(db, university, UserRole.UNIVERSITY_ADMIN))
