"""Membership administration rules: who may address whom, suspend, invite, set account status, read the audit log.

Pure functions of a principal, like policy.py (whose role rules they build on). The loaders that need the database
are in authz/addressing.py.

The model (docs/security.md):
- Staff reach a user **by id** only if the user already belongs to their university (a role, an enrolment in one
  of its offerings, or a suspension there). Anyone else is reached **by email**, which always makes an invitation,
  whether or not an account has that email, so the answer never depends on it. Platform admins see every account
  anyway: they address anyone directly, by id or email.
- A university admin suspends a member in their university; `users.is_active` is the platform admin's alone.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime

from twosigma.authz.policy import (
    GrantableRoles,
    administered_universities,
    administers_university,
    can_edit_course,
    grantable,
    grantable_roles,
    is_platform_admin,
)
from twosigma.authz.principal import Principal
from twosigma.enums import InvitationKind, UserRole
from twosigma.kit.errors import Conflict, Forbidden, not_found


def addresses_anyone(p: Principal | None) -> bool:
    """Reach any account directly, by id or by email (no invitation): platform admins, who see every account."""
    return is_platform_admin(p)


# --- Account status and suspension ---------------------------------------------------------------------------------


def can_set_account_status(p: Principal | None) -> bool:
    """`users.is_active` locks a person out of the whole platform: the platform's decision, never a tenant's."""
    return is_platform_admin(p)


def ensure_account_status_settable(p: Principal | None, target_universities: frozenset[int]) -> None:
    """403 for a UNIVERSITY_ADMIN of a university the user belongs to (they see the account in their member list
    and are told to suspend instead), 404 for everyone else, fellow members included: anyone can become a member
    by self-enrolling in a public offering, and a 403 that only members get would tell them which ids are members."""
    if can_set_account_status(p):
        return
    if administered_universities(p) & target_universities:
        raise Forbidden(
            "Only a platform administrator may activate or deactivate an account; suspend the member in your "
            "university instead.",
            code="platform_admin_only",
        )
    raise not_found("User")


def can_suspend_members(p: Principal | None, university_id: int) -> bool:
    """Suspend a member, or lift a suspension: the university's admins (and platform admins)."""
    return administers_university(p, university_id)


def can_read_suspension_details(p: Principal | None, university_id: int) -> bool:
    """A suspension's reason and who decided it, in the member list: those who may suspend there. Everyone else who
    sees the list (department admins) sees only *that* a member is suspended: they grant these people roles, which
    take effect nowhere while the suspension lasts, and a member by suspension alone is in the list anyway."""
    return can_suspend_members(p, university_id)


def ensure_suspendable(p: Principal, target_id: int, target_is_platform_admin: bool) -> None:
    if target_id == p.id:
        raise Conflict("You cannot suspend yourself.", code="cannot_suspend_self")
    if target_is_platform_admin:
        # Suspension is a university's measure; the platform role is not the university's to take away.
        raise Forbidden("A platform administrator cannot be suspended.", code="cannot_suspend_platform_admin")


# --- Invitations ---------------------------------------------------------------------------------------------------


def can_invite_to_role(p: Principal | None, university_id: int, role: UserRole, department_id: int | None) -> bool:
    """The same rule as a direct grant: you invite to what you could grant."""
    return role in grantable_roles(p, university_id, department_id)


def can_invite_to_offering(p: Principal | None, university_id: int, course_department_id: int | None) -> bool:
    """The same rule as a direct staff enrolment: the course's editors."""
    return can_edit_course(p, university_id, course_department_id)


def can_list_invitations(p: Principal | None, university_id: int) -> bool:
    """Those who can invite anyone there: admins, department admins and instructors."""
    if administers_university(p, university_id):
        return True
    roles = p.roles_in(university_id) if p is not None else frozenset()
    return bool(roles & {UserRole.DEPARTMENT_ADMIN, UserRole.INSTRUCTOR})


@dataclass(frozen=True)
class InvitationScope:
    """Which of a university's invitations a caller sees and may revoke: the ones they could issue now, plus the
    ones they sent. Evaluated in Python (`covers`) and turned into SQL by the invitations repository.

    "Could issue now" is the issuing rule itself: a ROLE invitation is covered when its role is in
    `policy.grantable_roles` for its department (`roles`), so a department admin never reaches a DEPARTMENT_ADMIN
    invitation naming their department (their replacement), nor a university-wide one.

    "Sent by me" covers listing *and* revoking, even once the sender could no longer issue it: acceptance re-checks
    the inviter's right as of then, so such an invitation can no longer be accepted anyway; withdrawing it only
    closes it, and it is the sender's own word (a later invitation to the same target by someone else supersedes
    it and is theirs, not the first sender's). The caller must still be one who may list invitations there."""

    everything: bool
    sender_id: int
    roles: GrantableRoles  # ROLE invitations whose role the caller could grant for the invitation's department
    course_departments: frozenset[int]  # ENROLLMENT invitations into courses of these departments
    all_courses: bool  # ENROLLMENT invitations into any course (a university-wide instructor)

    def covers(
        self,
        kind: InvitationKind,
        *,
        role: UserRole | None,
        department_id: int | None,
        course_department_id: int | None,
        sender: int | None,
    ) -> bool:
        if self.everything or sender == self.sender_id:
            return True
        if kind is InvitationKind.ROLE:
            return role is not None and role in self.roles.roles(department_id)
        return self.all_courses or (
            course_department_id is not None and course_department_id in self.course_departments
        )


def invitation_scope(p: Principal, university_id: int) -> InvitationScope:
    if administers_university(p, university_id):
        return InvitationScope(True, p.id, grantable(p, university_id), frozenset(), False)
    grants = p.grants_in(university_id)
    administered = frozenset(
        g.department_id for g in grants if g.role is UserRole.DEPARTMENT_ADMIN and g.department_id is not None
    )
    taught = frozenset(g.department_id for g in grants if g.role is UserRole.INSTRUCTOR and g.department_id is not None)
    everywhere = any(g.role is UserRole.INSTRUCTOR and g.department_id is None for g in grants)
    return InvitationScope(False, p.id, grantable(p, university_id), administered | taught, everywhere)


def may_answer_invitation(p: Principal, invitation_email: str) -> bool:
    """Only the holder of the invited address (compared case-insensitively) accepts or declines."""
    return p.user.email.lower() == invitation_email.lower()


class InvitationTokenRequired(Forbidden):
    code = "invitation_token_required"
    default_message = (
        "To accept this invitation, open the invitation link you were given (ask the person who invited you for it)."
    )


def ensure_may_accept_invitation(
    p: Principal, invited_at: datetime, token_hash: str, presented_hash: str | None
) -> None:
    """On top of `may_answer_invitation`, for accepting: emails are not verified, so holding the address proves
    nothing for an account made at or after the invitation (anyone may register it to claim the invitation). Such an
    account must present the invitation's token (`presented_hash`, its SHA-256); one that existed before needs none.
    A token presented is always checked (constant-time). Declining needs no token: it harms no one."""
    if presented_hash is not None:
        if hmac.compare_digest(presented_hash, token_hash):
            return
    elif p.user.created_at < invited_at:
        return
    raise InvitationTokenRequired()


# --- The audit log -------------------------------------------------------------------------------------------------


def can_read_audit(p: Principal | None, university_id: int) -> bool:
    """A university's audit log: its admins and platform admins."""
    return administers_university(p, university_id)
