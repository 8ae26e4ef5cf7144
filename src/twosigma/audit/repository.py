"""Every query of the audit log."""

from __future__ import annotations

from sqlalchemy import Select, select

from twosigma.audit.models import AuditAction, AuditEvent


def university_events_query(university_id: int, action: AuditAction | None) -> Select[AuditEvent]:
    """Newest first; within one transaction (one `now()`) the later event first."""
    stmt = select(AuditEvent).where(AuditEvent.university_id == university_id)
    if action is not None:
        stmt = stmt.where(AuditEvent.action == action.value)
    return stmt.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
