"""Issuing, listing, declining and revoking invitations. Accepting one lives in `acceptance.py`, which performs the
grant or enrolment through the tenancy and enrollments services (that one depends on them; this one depends on
neither, so they can call it to issue invitations).

Decisions (docs/tenancy.md, docs/security.md):
- An invitation lasts `INVITATION_LIFETIME` (14 days). It is PENDING until accepted, declined or revoked; a PENDING
  one past its expiry reads as EXPIRED and can no longer be accepted or declined.
- Inviting the same address to the same role (or offering) again while one is open replaces it: the old one is
  REVOKED (audited, with `superseded_by`), so there is one open invitation per target, and a fresh expiry.
- The token is `secrets.token_urlsafe(32)`; only its SHA-256 is stored. It appears in clear once: in the answer to
  the call that made the invitation (`created_view`: `accept_token`, `accept_url`), for the inviter to pass on until
  a later issue mails the link `/invitations/accept?token=…`. Who must present it to accept: authz/membership.py.
- The accept link is mailed to the invited address when the invitation is made (`mail_invitation`, the outbox, in
  the same transaction), in the language of the account holding that address, or else the inviter's.
- A decline is audited with no actor: the decliner may be an outsider, whom the university's log must not name.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.audit import service as audit
from twosigma.audit.models import AuditAction
from twosigma.authz import membership
from twosigma.authz.principal import Principal
from twosigma.config import Settings
from twosigma.enums import EnrollmentStatus, InvitationKind, InvitationStatus, UserRole
from twosigma.invitations import repository as repo
from twosigma.invitations.models import Invitation
from twosigma.invitations.schemas import (
    InvitationCreated,
    InvitationRead,
    InvitationState,
    InvitedCourse,
    InvitedDepartment,
    InvitedOffering,
    InvitedUniversity,
    MyInvitation,
)
from twosigma.kit.errors import Conflict
from twosigma.kit.pagination import PageParams, PageResult, paginate
from twosigma.mail import service as mail
from twosigma.mail.templates import invitation_target

INVITATION_LIFETIME = timedelta(days=14)
ACCEPT_PATH = "/invitations/accept"


class InvitationExpired(Conflict):
    code = "invitation_expired"
    default_message = "This invitation has expired; ask for a new one."


class InvitationClosed(Conflict):
    code = "invitation_not_pending"
    default_message = "This invitation is no longer open."


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: Invitation
    token: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def state_of(invitation: Invitation, now: datetime) -> InvitationState:
    if invitation.status is InvitationStatus.PENDING and invitation.expires_at <= now:
        return InvitationState.EXPIRED
    return InvitationState(invitation.status.value)


def ensure_open(invitation: Invitation, now: datetime) -> None:
    state = state_of(invitation, now)
    if state is InvitationState.EXPIRED:
        raise InvitationExpired(details={"status": state.value})
    if state is not InvitationState.PENDING:
        raise InvitationClosed(details={"status": state.value})


def _target_details(invitation: Invitation) -> dict[str, Any]:
    if invitation.kind is InvitationKind.ROLE:
        assert invitation.role is not None
        return {"kind": invitation.kind.value, "role": invitation.role.value, "department_id": invitation.department_id}
    assert invitation.enrollment_status is not None
    return {
        "kind": invitation.kind.value,
        "course_offering_id": invitation.course_offering_id,
        "status": invitation.enrollment_status.value,
    }


async def _record(
    session: AsyncSession, action: AuditAction, actor: Principal | None, invitation: Invitation, **extra: Any
) -> None:
    await audit.record(
        session,
        action,
        actor=actor,
        university_id=invitation.university_id,
        # Until someone accepts, the log names the address typed, never an account.
        target_user_id=invitation.closed_by_id if invitation.status is InvitationStatus.ACCEPTED else None,
        target_email=invitation.email,
        resource=("invitation", invitation.id),
        details=_target_details(invitation) | extra,
    )


def _close(invitation: Invitation, status: InvitationStatus, by: Principal, now: datetime) -> None:
    invitation.status = status
    invitation.closed_by_id = by.id
    invitation.closed_at = now


# --- Issuing -------------------------------------------------------------------------------------------------------


async def _issue(
    session: AsyncSession, p: Principal, university_id: int, email: str, target: dict[str, Any], now: datetime
) -> IssuedInvitation:
    email = email.lower()
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        university_id=university_id,
        email=email,
        invited_by_id=p.id,
        token_hash=token_hash(token),
        expires_at=now + INVITATION_LIFETIME,
        status=InvitationStatus.PENDING,
        **target,
    )
    replaced = await repo.open_for_same_target(session, university_id, email, target, now)
    session.add(invitation)
    await session.flush()
    for old in replaced:
        _close(old, InvitationStatus.REVOKED, p, now)
        await _record(session, AuditAction.INVITATION_REVOKED, p, old, superseded_by=invitation.id)
    await _record(session, AuditAction.INVITATION_CREATED, p, invitation)
    return IssuedInvitation(invitation, token)


async def invite_to_role(
    session: AsyncSession,
    p: Principal,
    university_id: int,
    email: str,
    role: UserRole,
    department_id: int | None,
    now: datetime,
) -> IssuedInvitation:
    """The caller's right to grant `role` there is checked before (the same check as a direct grant)."""
    return await _issue(session, p, university_id, email, repo.role_target(role, department_id), now)


async def invite_to_offering(
    session: AsyncSession,
    p: Principal,
    university_id: int,
    offering_id: int,
    email: str,
    status: EnrollmentStatus,
    now: datetime,
) -> IssuedInvitation:
    """The caller's right to enrol people in the offering is checked before (its course's editors)."""
    target = repo.offering_target(offering_id) | {"enrollment_status": status}
    return await _issue(session, p, university_id, email, target, now)


# --- Reading -------------------------------------------------------------------------------------------------------


def inviter_view(invitation: Invitation, now: datetime) -> InvitationRead:
    state = state_of(invitation, now)
    return InvitationRead(
        id=invitation.id,
        university_id=invitation.university_id,
        email=invitation.email,
        kind=invitation.kind,
        role=invitation.role,
        department_id=invitation.department_id,
        course_offering_id=invitation.course_offering_id,
        enrollment_status=invitation.enrollment_status,
        status=state,
        invited_by_id=invitation.invited_by_id,
        user_id=invitation.closed_by_id if state is InvitationState.ACCEPTED else None,
        created_at=invitation.created_at,
        expires_at=invitation.expires_at,
        closed_at=invitation.closed_at,
    )


async def mail_invitation(session: AsyncSession, settings: Settings, p: Principal, issued: IssuedInvitation) -> None:
    """Write the invitation's mail (its accept link) to the outbox, in the request's transaction."""
    invitation = issued.invitation
    locale = await repo.locale_of_address(session, invitation.email) or p.user.locale
    university = await repo.university_name(session, invitation.university_id)
    role = invitation.role.value if invitation.role is not None else None
    await mail.enqueue(
        session,
        recipient=invitation.email,
        template="invitation",
        locale=locale,
        link=accept_url(settings, issued.token),
        values={"name": p.user.full_name, "university": university, "target": invitation_target(locale, role)},
        idempotency_key=f"invitation:{invitation.id}",
    )


def accept_url(settings: Settings, token: str) -> str:
    return settings.links_base_url + ACCEPT_PATH + "?" + urlencode({"token": token})


def created_view(issued: IssuedInvitation, now: datetime, settings: Settings) -> InvitationCreated:
    """The inviter's view with the token: for the answer of the call that issued it, and nothing else."""
    url = accept_url(settings, issued.token)
    view = inviter_view(issued.invitation, now)
    return InvitationCreated(**view.model_dump(), accept_token=issued.token, accept_url=url)


def invitee_view(invitation: Invitation, now: datetime) -> MyInvitation:
    """`invitation` loaded with its context (repository `_with_context`)."""
    offering = invitation.course_offering
    return MyInvitation(
        id=invitation.id,
        kind=invitation.kind,
        status=state_of(invitation, now),
        university=InvitedUniversity.model_validate(invitation.university),
        role=invitation.role,
        department=InvitedDepartment.model_validate(invitation.department) if invitation.department else None,
        course_offering=(
            InvitedOffering(
                id=offering.id, term_name=offering.term_name, course=InvitedCourse.model_validate(offering.course)
            )
            if offering is not None
            else None
        ),
        enrollment_status=invitation.enrollment_status,
        invited_by_name=invitation.invited_by.full_name if invitation.invited_by else None,
        created_at=invitation.created_at,
        expires_at=invitation.expires_at,
    )


async def university_invitations(
    session: AsyncSession,
    p: Principal,
    university_id: int,
    state: InvitationState | None,
    params: PageParams,
    now: datetime,
) -> PageResult[InvitationRead]:
    scope = membership.invitation_scope(p, university_id)
    page = await paginate(session, repo.university_query(university_id, scope, state, now), params)
    return PageResult([inviter_view(i, now) for i in page.items], page.page, page.limit, page.total)


async def my_invitations(
    session: AsyncSession, p: Principal, state: InvitationState | None, params: PageParams, now: datetime
) -> PageResult[MyInvitation]:
    page = await paginate(session, repo.addressed_to_query(p.user.email, state, now), params)
    return PageResult([invitee_view(i, now) for i in page.items], page.page, page.limit, page.total)


# --- Closing -------------------------------------------------------------------------------------------------------


# What can change under a concurrent answer or revocation; re-read after the lock (the rest is immutable).
_MUTABLE = ["status", "closed_by_id", "closed_at"]


async def locked(session: AsyncSession, invitation: Invitation) -> Invitation:
    """`invitation` under its row lock, with its state as of now (its loaded context kept)."""
    if not await repo.lock(session, invitation.id):  # deleted since it was loaded (its offering or department went)
        raise InvitationClosed()
    await session.refresh(invitation, attribute_names=_MUTABLE)
    return invitation


async def decline(session: AsyncSession, p: Principal, invitation: Invitation, now: datetime) -> MyInvitation:
    row = await locked(session, invitation)
    ensure_open(row, now)
    _close(row, InvitationStatus.DECLINED, p, now)
    await session.flush()
    # No actor: whoever declines may be outside the university, and its log names only the address typed.
    await _record(session, AuditAction.INVITATION_DECLINED, None, row)
    return invitee_view(invitation, now)


async def record_accepted(
    session: AsyncSession, p: Principal, invitation: Invitation, *, grant_id: int | None, enrollment_id: int | None
) -> None:
    made = {"grant_id": grant_id} if grant_id is not None else {"enrollment_id": enrollment_id}
    await _record(
        session, AuditAction.INVITATION_ACCEPTED, p, invitation, invited_by_id=invitation.invited_by_id, **made
    )


async def revoke(session: AsyncSession, p: Principal, invitation: Invitation, now: datetime) -> None:
    """A PENDING invitation, expired or not (revoking an expired one just closes it for good)."""
    row = await locked(session, invitation)
    if row.status is not InvitationStatus.PENDING:
        raise InvitationClosed(details={"status": row.status.value})
    _close(row, InvitationStatus.REVOKED, p, now)
    await session.flush()
    await _record(session, AuditAction.INVITATION_REVOKED, p, row)


async def erase_user(session: AsyncSession, user_id: int, addresses: list[str]) -> None:
    """An account being erased: the invitations to its addresses (pending ones are revoked by going; closed ones
    would keep the address) and those it accepted or declined. Invitations it sent to others stay theirs."""
    await repo.delete_addressed_to(session, addresses, user_id)
