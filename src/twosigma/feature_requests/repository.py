"""Feature request queries."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.enums import FeatureRequestStatus
from twosigma.feature_requests.models import FeatureRequest


def list_query(owner_id: int | None, status: FeatureRequestStatus | None) -> Select[Any]:
    """Newest first; `owner_id=None` means every user's requests."""
    stmt = select(FeatureRequest).order_by(FeatureRequest.created_at.desc(), FeatureRequest.id.desc())
    if owner_id is not None:
        stmt = stmt.where(FeatureRequest.user_id == owner_id)
    if status is not None:
        stmt = stmt.where(FeatureRequest.status == status)
    return stmt


async def get(session: AsyncSession, request_id: int) -> FeatureRequest | None:
    return await session.get(FeatureRequest, request_id)


async def delete_of_user(session: AsyncSession, user_id: int) -> None:
    await session.execute(delete(FeatureRequest).where(FeatureRequest.user_id == user_id))
