"""Accepting an invitation: the grant or enrolment it offers, made with the same rules as a direct one, in the
request's one transaction.

- Only the holder of the invited address accepts (the loader answers 404 to anyone else); if their account was
  created at or after the invitation, only with its token (403 `invitation_token_required`, authz/membership.py);
  while it is open (409 `invitation_expired` / `invitation_not_pending`), and not while suspended there (403).
- The inviter's right is re-checked as of now: an invitation is only as good as its inviter's standing. One whose
  inviter has since lost the right to grant that role or edit that course (revoked, suspended, deactivated or
  deleted) is 409 `invitation_no_longer_valid`; it stays PENDING, and staff who still may can invite again.
- The grant or enrolment itself runs through tenancy / enrollments (role_exists, already_enrolled, capacity and the
  waitlist, the STUDENT role on enrolment), audited as done on the inviter's authority; the acceptance is audited
  as the invitee's act.

`accept` takes an already loaded invitation: accepting by the token alone (an emailed link) needs only a loader by
`token_hash` (unique) and the same address check.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.authz import addressing, membership
from twosigma.authz.access.invitations import ensure_may_join
from twosigma.authz.principal import Principal
from twosigma.enrollments import service as enrollments
from twosigma.enums import InvitationKind, InvitationStatus
from twosigma.invitations.models import Invitation
from twosigma.invitations.schemas import AcceptedInvitation, InvitationState
from twosigma.invitations.services import invitations as service
from twosigma.kit.errors import Conflict
from twosigma.tenancy.services import members
from twosigma.users import service as users


class InvitationNoLongerValid(Conflict):
    code = "invitation_no_longer_valid"
    default_message = "The person who invited you may no longer grant this; ask for a new invitation."


async def accept(
    session: AsyncSession, p: Principal, invitation: Invitation, now: datetime, token: str | None = None
) -> AcceptedInvitation:
    """`invitation` as loaded for its addressee (with its university, department and offering's course); `token`
    the one the caller presents, if any."""
    presented = service.token_hash(token) if token is not None else None
    membership.ensure_may_accept_invitation(p, invitation.created_at, invitation.token_hash, presented)
    row = await service.locked(session, invitation)
    service.ensure_open(row, now)
    ensure_may_join(p, row.university_id)
    # Built before the grant or enrolment: locking the offering there reloads it without its course.
    view = service.invitee_view(invitation, now).model_copy(update={"status": InvitationState.ACCEPTED})
    authority = await addressing.standing_of(session, row.invited_by_id)
    user = await users.load_self(session, p)
    grant_id = enrollment_id = None
    enrollment_status = None
    if row.kind is InvitationKind.ROLE:
        assert row.role is not None
        if authority is None or not membership.can_invite_to_role(
            authority, row.university_id, row.role, row.department_id
        ):
            raise InvitationNoLongerValid()
        grant = await members.grant(
            session, authority, row.university_id, user, row.role, row.department_id, via_invitation=row.id
        )
        grant_id = grant.id
    else:
        offering = invitation.course_offering
        assert offering is not None
        assert row.enrollment_status is not None
        course = offering.course
        if authority is None or not membership.can_invite_to_offering(
            authority, course.university_id, course.department_id
        ):
            raise InvitationNoLongerValid()
        enrollment = await enrollments.enroll_by_staff(
            session, authority, offering.id, user, row.enrollment_status, via_invitation=row.id
        )
        enrollment_id, enrollment_status = enrollment.id, enrollment.status
    row.status = InvitationStatus.ACCEPTED
    row.closed_by_id = p.id
    row.closed_at = now
    await session.flush()
    await service.record_accepted(session, p, row, grant_id=grant_id, enrollment_id=enrollment_id)
    return AcceptedInvitation(
        invitation=view,
        grant_id=grant_id,
        enrollment_id=enrollment_id,
        enrollment_status=enrollment_status,
    )
