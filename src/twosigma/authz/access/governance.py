"""Tutor governance: who sets a university's or a course's tutor policy, reads its usage and handles its flags."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.authz import policy
from twosigma.authz.principal import Principal
from twosigma.kit.errors import not_found
from twosigma.tenancy import repository as tenancy_repo
from twosigma.tenancy.models import University


async def governed_university(session: AsyncSession, p: Principal, university_id: int) -> University:
    """A university's tutor policy and its own provider settings: its admins and platform admins. Private: 404 for
    outsiders, 403 for members with another role."""
    university = await tenancy_repo.get_university(session, university_id)
    if university is None:
        raise not_found("University")
    policy.ensure(policy.administers_university(p, university.id), p, university.id, resource="University")
    return university
