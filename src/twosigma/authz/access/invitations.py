"""Invitations: one addressed to the caller, or one they manage (could issue now, or sent)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.authz import membership, policy
from twosigma.authz.principal import Principal
from twosigma.invitations import repository as repo
from twosigma.invitations.models import Invitation
from twosigma.kit.errors import NotFound, not_found


def _not_found() -> NotFound:
    return not_found("Invitation", code="invitation_not_found")


async def addressed_invitation(session: AsyncSession, principal: Principal, invitation_id: int) -> Invitation:
    """An invitation to the caller's own email address (with what the invitee's view shows); anyone else's is 404."""
    invitation = await repo.get_with_context(session, invitation_id)
    if invitation is None or not membership.may_answer_invitation(principal, invitation.email):
        raise _not_found()
    return invitation


async def managed_invitation(session: AsyncSession, principal: Principal, invitation_id: int) -> Invitation:
    """An invitation the caller could issue now, or sent: 404 for outsiders of its university, 403 for its members
    out of scope."""
    found = await repo.get_with_course(session, invitation_id)
    if found is None:
        raise _not_found()
    invitation, course = found
    scope = membership.invitation_scope(principal, invitation.university_id)
    covered = membership.can_list_invitations(principal, invitation.university_id) and scope.covers(
        invitation.kind,
        role=invitation.role,
        department_id=invitation.department_id,
        course_department_id=course.department_id if course is not None else None,
        sender=invitation.invited_by_id,
    )
    try:
        policy.ensure(covered, principal, invitation.university_id, resource="Invitation")
    except NotFound:
        raise _not_found() from None
    return invitation


def ensure_may_join(p: Principal, university_id: int) -> None:
    """Accepting an invitation is acting on one's own standing in the university: not while suspended there."""
    policy.ensure_not_suspended(p, university_id)


async def invitation_by_token(session: AsyncSession, principal: Principal, token_hash: str) -> Invitation:
    """The invitation an emailed link's token names, for its addressee only (anyone else, or no such token: 404)."""
    invitation = await repo.get_by_token_hash_with_context(session, token_hash)
    if invitation is None or not membership.may_answer_invitation(principal, invitation.email):
        raise _not_found()
    return invitation
