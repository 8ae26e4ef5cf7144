"""Writing and reading the audit log. `record` runs inside the caller's unit of work: the event commits (or rolls
back) with the action it describes, never on its own."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.audit import repository as repo
from twosigma.audit.models import AuditAction, AuditEvent
from twosigma.authz.principal import Principal
from twosigma.kit.pagination import PageParams, PageResult, paginate


async def record(
    session: AsyncSession,
    action: AuditAction,
    *,
    actor: Principal | None,
    university_id: int | None,
    target_user_id: int | None = None,
    target_email: str | None = None,
    resource: tuple[str, int] | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """`target_email` is kept as text so the trail still names the person after their account is deleted; for an
    invitation it is the address typed, and `target_user_id` stays empty until someone accepts (the log must not
    reveal whether an account exists either)."""
    event = AuditEvent(
        university_id=university_id,
        action=action.value,
        actor_id=actor.id if actor is not None else None,
        actor_email=actor.user.email if actor is not None else None,
        target_user_id=target_user_id,
        target_email=target_email,
        resource_type=resource[0] if resource else None,
        resource_id=resource[1] if resource else None,
        details=details or {},
    )
    session.add(event)
    await session.flush()
    return event


async def university_log(
    session: AsyncSession, university_id: int, action: AuditAction | None, params: PageParams
) -> PageResult[AuditEvent]:
    return await paginate(session, repo.university_events_query(university_id, action), params)


async def resource_log(
    session: AsyncSession, resource: tuple[str, int], action: AuditAction, params: PageParams
) -> PageResult[AuditEvent]:
    """What was done to one resource (e.g. who read a chat), newest first."""
    return await paginate(session, repo.resource_events_query(resource[0], resource[1], action), params)


async def forget_person(session: AsyncSession, user_id: int, addresses: list[str]) -> None:
    """An account being erased: every event that names it by address (as actor or target), or mentions one of
    its `addresses` in its details, keeps its action, time and ids but loses the address and the details."""
    await repo.forget_person(session, user_id, addresses)
