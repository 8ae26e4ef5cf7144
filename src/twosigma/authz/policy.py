"""The rules of SPEC §4, as pure functions of a principal and a scope (university, department).

Every permission question in the app is answered here. `ensure()` turns a "no" into the right error: a caller
with no standing in the resource's university gets 404 (existence must not leak), a member with the wrong role
gets 403, and a member suspended there 403 `membership_suspended` (they know they belong; nothing leaks).

Suspension: a Principal's grants already leave out the universities where the user is suspended (principal.py),
so every role rule below applies it without saying so. Enrolments are read per route and judged here
(`can_read_course_content`, `ensure_enrolled_as`, `ensure_not_suspended`), which check `suspended_in` themselves.
Membership administration (addressing users, suspensions, invitations, the audit log): authz/membership.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from twosigma.authz.principal import Principal
from twosigma.enums import EnrollmentStatus, UserRole
from twosigma.kit.errors import Forbidden, NotFound

STAFF_ROLES = frozenset({UserRole.UNIVERSITY_ADMIN, UserRole.DEPARTMENT_ADMIN, UserRole.INSTRUCTOR, UserRole.TA})
DEPARTMENT_GRANTABLE = frozenset({UserRole.INSTRUCTOR, UserRole.TA, UserRole.STUDENT})


def is_platform_admin(p: Principal | None) -> bool:
    return p is not None and p.is_platform_admin


def is_member(p: Principal | None, university_id: int) -> bool:
    """Any standing in the university (any role), or platform admin."""
    return p is not None and (p.is_platform_admin or bool(p.roles_in(university_id)))


def is_staff(p: Principal | None, university_id: int) -> bool:
    return p is not None and (p.is_platform_admin or bool(p.roles_in(university_id) & STAFF_ROLES))


def administers_university(p: Principal | None, university_id: int) -> bool:
    return p is not None and (p.is_platform_admin or UserRole.UNIVERSITY_ADMIN in p.roles_in(university_id))


def administers_department(p: Principal | None, university_id: int, department_id: int | None) -> bool:
    if administers_university(p, university_id):
        return True
    if p is None or department_id is None:
        return False
    return any(
        g.role is UserRole.DEPARTMENT_ADMIN and g.department_id == department_id for g in p.grants_in(university_id)
    )


def _instructs(p: Principal, university_id: int, department_id: int | None) -> bool:
    """INSTRUCTOR in the university; a role that names a department covers only that department."""
    return any(
        g.role is UserRole.INSTRUCTOR and (g.department_id is None or g.department_id == department_id)
        for g in p.grants_in(university_id)
    )


def can_manage_members(p: Principal | None, university_id: int) -> bool:
    """See the member list and manage roles: university admins, and department admins (within limits)."""
    if administers_university(p, university_id):
        return True
    return p is not None and UserRole.DEPARTMENT_ADMIN in p.roles_in(university_id)


@dataclass(frozen=True)
class GrantableRoles:
    """Every role `p` may grant (or revoke) in one university: `everywhere` (university-wide or in any department)
    and, per department, `by_department`. The one statement of the rule: `grantable_roles` answers from it, and the
    invitations repository turns the same object into SQL (which invitations a caller could issue now)."""

    everywhere: frozenset[UserRole] = frozenset()
    by_department: Mapping[int, frozenset[UserRole]] = field(default_factory=dict)

    def roles(self, department_id: int | None) -> frozenset[UserRole]:
        if department_id is None:
            return self.everywhere
        return self.everywhere | self.by_department.get(department_id, frozenset())


def grantable(p: Principal | None, university_id: int) -> GrantableRoles:
    if p is None:
        return GrantableRoles()
    if p.is_platform_admin:
        return GrantableRoles(everywhere=frozenset(UserRole))
    if UserRole.UNIVERSITY_ADMIN in p.roles_in(university_id):
        return GrantableRoles(everywhere=frozenset(UserRole) - {UserRole.PLATFORM_ADMIN})
    administered = {
        g.department_id
        for g in p.grants_in(university_id)
        if g.role is UserRole.DEPARTMENT_ADMIN and g.department_id is not None
    }
    return GrantableRoles(by_department=dict.fromkeys(sorted(administered), DEPARTMENT_GRANTABLE))


def grantable_roles(p: Principal | None, university_id: int, department_id: int | None) -> frozenset[UserRole]:
    """Which roles `p` may grant (or revoke) in this university/department: a department admin grants
    INSTRUCTOR/TA/STUDENT in their own department only, never DEPARTMENT_ADMIN nor anything university-wide."""
    return grantable(p, university_id).roles(department_id)


def can_create_course(p: Principal | None, university_id: int, department_id: int | None) -> bool:
    if p is None:
        return False
    return administers_department(p, university_id, department_id) or _instructs(p, university_id, department_id)


def can_edit_course(p: Principal | None, university_id: int, department_id: int | None) -> bool:
    """Edit a course and its offerings, modules, content and enrolments."""
    return can_create_course(p, university_id, department_id)


def can_read_answer_keys(p: Principal | None, university_id: int, department_id: int | None) -> bool:
    """A gradable item's answer keys and explanations (issue 19): whoever may edit the course, since they write
    them. Everyone else who reads the item (students, TAs, staff of another department) reads the student view."""
    return can_edit_course(p, university_id, department_id)


def can_view_course_staff_data(p: Principal | None, university_id: int, department_id: int | None) -> bool:
    """Unpublished content, rosters and progress views: editors, plus every TA of the university."""
    if p is None:
        return False
    return can_edit_course(p, university_id, department_id) or UserRole.TA in p.roles_in(university_id)


class MembershipSuspended(Forbidden):
    code = "membership_suspended"
    default_message = "Your membership in this university is suspended."


def is_suspended(p: Principal | None, university_id: int) -> bool:
    """Suspended in the university (a platform admin never is: suspension does not touch the platform role)."""
    return p is not None and not p.is_platform_admin and p.is_suspended_in(university_id)


def ensure_not_suspended(p: Principal | None, university_id: int) -> None:
    """For what a user does with their own standing in a university (enrolling, changing their enrolment, accepting
    an invitation there): none of it while suspended."""
    if is_suspended(p, university_id):
        raise MembershipSuspended()


def ensure(allowed: bool, p: Principal | None, university_id: int, *, resource: str = "Resource") -> None:
    """Raise unless `allowed`: 404 for outsiders of the university, 403 for members with the wrong role, 403
    `membership_suspended` for members suspended there."""
    if allowed:
        return
    ensure_not_suspended(p, university_id)
    if not is_member(p, university_id):
        raise NotFound(f"{resource} not found.")
    raise Forbidden()


def ensure_platform_admin(p: Principal | None) -> None:
    if not is_platform_admin(p):
        raise Forbidden("Only a platform administrator may do this.")


# --- Catalog and enrolment -------------------------------------------------------------------------------------


def can_view_course(p: Principal | None, university_id: int, is_published: bool) -> bool:
    """Published courses are the catalog; unpublished ones are seen only by the university's staff."""
    return is_published or is_staff(p, university_id)


def unpublished_catalog_scope(p: Principal | None) -> frozenset[int] | None:
    """Universities whose unpublished courses `p` sees in the catalog; None means every university."""
    if p is None:
        return frozenset()
    if p.is_platform_admin:
        return None
    return frozenset(u for u in p.university_ids() if is_staff(p, u))


def can_see_hidden_offerings(p: Principal | None, university_id: int, department_id: int | None) -> bool:
    """UNLISTED/INVITE_ONLY offerings in listings, and invite codes: the course's staff (TAs included)."""
    return can_view_course_staff_data(p, university_id, department_id)


def can_view_enrollment(p: Principal | None, owner_id: int, university_id: int) -> bool:
    """Your own enrolment, or any enrolment of a university you are staff of. Everyone else gets 404."""
    return p is not None and (p.id == owner_id or is_staff(p, university_id))


def ensure_visible(allowed: bool, *, resource: str = "Resource") -> None:
    """Raise 404 unless `allowed`: for things whose very existence must not leak (unpublished courses)."""
    if not allowed:
        raise NotFound(f"{resource} not found.")


# Tenancy: universities and membership administration.


def can_view_university(p: Principal | None, university_id: int, is_active: bool) -> bool:
    """Active universities are a public catalog; an inactive one is visible to its administrators only."""
    return is_active or administers_university(p, university_id)


def can_set_university_status(p: Principal | None) -> bool:
    """Activating or deactivating a tenant is the platform's decision, not the tenant's."""
    return is_platform_admin(p)


def ensure_allowed(allowed: bool, message: str | None = None) -> None:
    """For resources anyone may read (an active university, its departments): a refusal is a plain 403."""
    if not allowed:
        raise Forbidden(message)


# --- Course content and progress -------------------------------------------------------------------------------


def sees_unpublished_content(p: Principal | None, university_id: int) -> bool:
    """Unpublished modules (and everything under them): the university's staff, TAs included."""
    return is_staff(p, university_id)


def can_read_course_content(p: Principal | None, university_id: int, *, course_published: bool, enrolled: bool) -> bool:
    """Staff of the course's university; or an ACTIVE/COMPLETED enrolment in an offering of a published course.

    Students additionally see published modules only; that filter is applied where the tree is read. An enrolment
    in a university where the reader is suspended does not count.
    """
    if sees_unpublished_content(p, university_id):
        return True
    return course_published and enrolled and not is_suspended(p, university_id)


# Prompts: platform-wide configuration, not tenant data.


def can_read_prompts(p: Principal | None) -> bool:
    """Staff of any university (the tutor's prompts shape their courses) and platform admins."""
    return p is not None and (p.is_platform_admin or any(is_staff(p, u) for u in p.university_ids()))


def can_write_prompts(p: Principal | None) -> bool:
    return is_platform_admin(p)


def can_move_protected_prompt_labels(p: Principal | None) -> bool:
    """`production` decides what every student sees: only platform admins move or remove it."""
    return is_platform_admin(p)


def ensure_enrolled_as(
    p: Principal | None, university_id: int, status: EnrollmentStatus | None, allowed: frozenset[EnrollmentStatus]
) -> None:
    """Routes about the caller's own progress in an offering: pass if their enrolment is in `allowed`.

    Neither enrolled nor staff → 404 (the offering's progress is none of their business); staff who are not enrolled,
    and enrolments in another status (waitlisted, dropped…) → 403; a member suspended in the university → 403
    `membership_suspended`, whatever their enrolment.
    """
    ensure_not_suspended(p, university_id)
    if status is not None and status in allowed:
        return
    if status is None and not is_staff(p, university_id):
        raise NotFound("You are not enrolled in this offering.", code="not_enrolled")
    if status is None:
        raise Forbidden("You are not enrolled in this offering.", code="not_enrolled")
    raise Forbidden(
        f"Your enrolment is {status.value}; this needs one of {', '.join(sorted(s.value for s in allowed))}.",
        code="enrollment_not_active",
        details={"status": status.value},
    )


# --- Feature requests and analytics (platform administration) --------------------------------------------------


def can_triage_feature_requests(p: Principal | None) -> bool:
    """Feature requests are feedback about the platform, not tenant data: platform admins see all and set status."""
    return is_platform_admin(p)


def can_view_feature_request(p: Principal | None, owner_id: int) -> bool:
    """Your own requests, or any request for a platform admin. Everyone else gets 404."""
    return p is not None and (p.id == owner_id or p.is_platform_admin)


def administered_universities(p: Principal | None) -> frozenset[int]:
    """Universities where `p` holds UNIVERSITY_ADMIN (platform admin not implied)."""
    if p is None:
        return frozenset()
    return frozenset(g.university_id for g in p.grants if g.role is UserRole.UNIVERSITY_ADMIN)


def can_view_analytics(p: Principal | None, university_id: int | None) -> bool:
    """Platform-wide figures: platform admins. One university's: its UNIVERSITY_ADMINs and platform admins."""
    if university_id is None:
        return is_platform_admin(p)
    return administers_university(p, university_id)
