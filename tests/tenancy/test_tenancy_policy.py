"""The pure tenancy rules of authz.policy, without HTTP."""

from __future__ import annotations

import pytest

import twosigma.models  # noqa: F401  (every mapper configured before a User is built)
from twosigma.authz import membership, policy
from twosigma.authz.principal import Grant, Principal
from twosigma.enums import InvitationKind, UserRole
from twosigma.kit.errors import Forbidden, NotFound
from twosigma.users.models import User


def _principal(*grants: Grant) -> Principal:
    return Principal(user=User(id=1, email="p@example.edu", full_name="P", password_hash="x"), grants=grants)


UNI_ADMIN_OF_1 = _principal(Grant(1, UserRole.UNIVERSITY_ADMIN))


class TestAccountStatusIsThePlatformAdminsAlone:
    def test_platform_admin_sets_anyones_status(self) -> None:
        assert membership.can_set_account_status(_principal(Grant(9, UserRole.PLATFORM_ADMIN)))
        membership.ensure_account_status_settable(_principal(Grant(9, UserRole.PLATFORM_ADMIN)), frozenset())

    def test_university_admin_of_the_users_only_university_is_forbidden(self) -> None:
        assert not membership.can_set_account_status(UNI_ADMIN_OF_1)
        with pytest.raises(Forbidden):
            membership.ensure_account_status_settable(UNI_ADMIN_OF_1, frozenset({1}))

    def test_someone_sharing_no_university_with_the_user_gets_not_found(self) -> None:
        with pytest.raises(NotFound):
            membership.ensure_account_status_settable(UNI_ADMIN_OF_1, frozenset({2}))

    @pytest.mark.parametrize("role", [UserRole.DEPARTMENT_ADMIN, UserRole.INSTRUCTOR, UserRole.TA, UserRole.STUDENT])
    def test_a_fellow_member_who_does_not_administer_the_university_gets_not_found(self, role: UserRole) -> None:
        department = 5 if role is UserRole.DEPARTMENT_ADMIN else None
        with pytest.raises(NotFound):
            membership.ensure_account_status_settable(_principal(Grant(1, role, department)), frozenset({1}))


class TestSuspensionInThePrincipal:
    def _build(self, *grants: Grant, suspended_in: frozenset[int]) -> Principal:
        user = User(id=1, email="p@example.edu", full_name="P", password_hash="x")
        return Principal.build(user, grants, suspended_in)  # type: ignore[arg-type]

    def test_roles_of_a_university_where_the_user_is_suspended_do_not_count(self) -> None:
        p = self._build(Grant(1, UserRole.UNIVERSITY_ADMIN), Grant(2, UserRole.TA), suspended_in=frozenset({1}))
        assert not policy.administers_university(p, 1)
        assert policy.is_staff(p, 2)
        assert p.university_ids() == frozenset({2})

    def test_the_platform_role_survives_a_suspension(self) -> None:
        p = self._build(Grant(1, UserRole.PLATFORM_ADMIN), suspended_in=frozenset({1}))
        assert p.is_platform_admin
        assert not policy.is_suspended(p, 1)

    def test_ensure_tells_a_suspended_member_so(self) -> None:
        p = self._build(Grant(1, UserRole.STUDENT), suspended_in=frozenset({1}))
        with pytest.raises(policy.MembershipSuspended):
            policy.ensure(False, p, 1)

    def test_an_enrolment_in_a_university_where_the_reader_is_suspended_reads_nothing(self) -> None:
        p = self._build(Grant(1, UserRole.STUDENT), suspended_in=frozenset({1}))
        assert not policy.can_read_course_content(p, 1, course_published=True, enrolled=True)
        assert policy.can_read_course_content(p, 2, course_published=True, enrolled=True)


def _covers(
    scope: membership.InvitationScope,
    kind: InvitationKind,
    *,
    role: UserRole | None = UserRole.TA,
    department_id: int | None = None,
    course_department_id: int | None = None,
    sender: int | None = 77,
) -> bool:
    """`scope.covers` of an invitation by someone else (77), to TA university-wide unless told otherwise."""
    return scope.covers(
        kind, role=role, department_id=department_id, course_department_id=course_department_id, sender=sender
    )


class TestInvitationScope:
    def test_university_admin_sees_every_invitation(self) -> None:
        scope = membership.invitation_scope(UNI_ADMIN_OF_1, 1)
        assert _covers(scope, InvitationKind.ROLE)

    def test_department_admin_sees_their_departments_roles_and_courses_and_what_they_sent(self) -> None:
        scope = membership.invitation_scope(_principal(Grant(1, UserRole.DEPARTMENT_ADMIN, 5)), 1)
        assert _covers(scope, InvitationKind.ROLE, department_id=5)
        assert _covers(scope, InvitationKind.ENROLLMENT, role=None, course_department_id=5)
        assert not _covers(scope, InvitationKind.ROLE, department_id=6)
        assert not _covers(scope, InvitationKind.ENROLLMENT, role=None)
        assert _covers(scope, InvitationKind.ROLE, sender=1)

    def test_department_admin_does_not_see_a_department_admin_invitation_naming_their_department(self) -> None:
        scope = membership.invitation_scope(_principal(Grant(1, UserRole.DEPARTMENT_ADMIN, 5)), 1)
        assert not _covers(scope, InvitationKind.ROLE, role=UserRole.DEPARTMENT_ADMIN, department_id=5)
        assert not _covers(scope, InvitationKind.ROLE, role=UserRole.UNIVERSITY_ADMIN)

    def test_a_role_invitation_is_covered_exactly_when_its_role_is_grantable_there(self) -> None:
        """One rule: the scope answers what `policy.grantable_roles` answers, for every role and department."""
        principals = [UNI_ADMIN_OF_1, _principal(Grant(1, UserRole.DEPARTMENT_ADMIN, 5)), _principal()]
        principals += [_principal(Grant(1, UserRole.INSTRUCTOR, 5)), _principal(Grant(2, UserRole.UNIVERSITY_ADMIN))]
        for p in principals:
            scope = membership.invitation_scope(p, 1)
            for role in UserRole:
                for department_id in (None, 5, 6):
                    covered = _covers(scope, InvitationKind.ROLE, role=role, department_id=department_id)
                    grantable = role in policy.grantable_roles(p, 1, department_id)
                    assert covered == (grantable or scope.everything), (p.grants, role, department_id)

    def test_university_wide_instructor_sees_every_enrolment_invitation_and_no_role_invitation(self) -> None:
        scope = membership.invitation_scope(_principal(Grant(1, UserRole.INSTRUCTOR)), 1)
        assert _covers(scope, InvitationKind.ENROLLMENT, role=None)
        assert not _covers(scope, InvitationKind.ROLE, department_id=5)


class TestCanViewUniversity:
    def test_active_university_is_public(self) -> None:
        assert policy.can_view_university(None, 1, True)

    def test_inactive_university_is_for_its_admins(self) -> None:
        assert policy.can_view_university(UNI_ADMIN_OF_1, 1, False)
        assert not policy.can_view_university(_principal(Grant(1, UserRole.STUDENT)), 1, False)
