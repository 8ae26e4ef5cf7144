"""Typed dependencies that load an invitation for the person it is addressed to, or for staff who manage it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from twosigma.authz import membership, policy
from twosigma.authz.dependencies import CurrentPrincipal
from twosigma.db.session import DbSession
from twosigma.invitations import repository as repo
from twosigma.invitations.models import Invitation
from twosigma.kit.errors import NotFound

InvitationId = Annotated[int, Path(ge=1, le=2_147_483_647)]


def _not_found() -> NotFound:
    return NotFound("Invitation not found.", code="invitation_not_found")


async def get_addressed_invitation(
    session: DbSession, principal: CurrentPrincipal, invitation_id: InvitationId
) -> Invitation:
    """An invitation to the caller's own email address (with what the invitee's view shows); anyone else's is 404."""
    invitation = await repo.get_with_context(session, invitation_id)
    if invitation is None or not membership.may_answer_invitation(principal, invitation.email):
        raise _not_found()
    return invitation


async def get_managed_invitation(
    session: DbSession, principal: CurrentPrincipal, invitation_id: InvitationId
) -> Invitation:
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


AddressedInvitation = Annotated[Invitation, Depends(get_addressed_invitation)]
ManagedInvitation = Annotated[Invitation, Depends(get_managed_invitation)]
