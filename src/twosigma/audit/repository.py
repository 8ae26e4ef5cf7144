"""Every query of the audit log."""

from __future__ import annotations

from sqlalchemy import Select, String, cast, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.audit.models import AuditAction, AuditEvent


def university_events_query(university_id: int, action: AuditAction | None) -> Select[AuditEvent]:
    """Newest first; within one transaction (one `now()`) the later event first."""
    stmt = select(AuditEvent).where(AuditEvent.university_id == university_id)
    if action is not None:
        stmt = stmt.where(AuditEvent.action == action.value)
    return stmt.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())


def resource_events_query(resource_type: str, resource_id: int, action: AuditAction) -> Select[AuditEvent]:
    e = AuditEvent
    stmt = select(e).where(e.resource_type == resource_type, e.resource_id == resource_id, e.action == action.value)
    return stmt.order_by(e.created_at.desc(), e.id.desc())


async def forget_person(session: AsyncSession, user_id: int, addresses: list[str]) -> None:
    """Events about the person keep what happened and the ids, without their address or free-text details."""
    e = AuditEvent
    lowered = [address.lower() for address in addresses]
    await session.execute(
        update(e).where(e.actor_id == user_id).values(actor_email=None),
        execution_options={"synchronize_session": False},
    )
    mentions = [func.lower(cast(e.details, String)).contains(address, autoescape=True) for address in lowered]
    await session.execute(
        update(e)
        .where(or_(e.target_user_id == user_id, func.lower(e.target_email).in_(lowered), *mentions))
        .values(target_email=None, details={}),
        execution_options={"synchronize_session": False},
    )
