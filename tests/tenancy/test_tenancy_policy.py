"""The pure tenancy rules of authz.policy, without HTTP."""

from __future__ import annotations

import pytest

import twosigma.models  # noqa: F401  (every mapper configured before a User is built)
from twosigma.authz import policy
from twosigma.authz.principal import Grant, Principal
from twosigma.enums import UserRole
from twosigma.kit.errors import Forbidden, NotFound
from twosigma.users.models import User


def _principal(*grants: Grant) -> Principal:
    return Principal(user=User(id=1, email="p@example.edu", full_name="P", password_hash="x"), grants=grants)


UNI_ADMIN_OF_1 = _principal(Grant(1, UserRole.UNIVERSITY_ADMIN))


class TestCanManageUser:
    def test_platform_admin_manages_a_user_without_roles(self) -> None:
        assert policy.can_manage_user(_principal(Grant(9, UserRole.PLATFORM_ADMIN)), [])

    def test_university_admin_manages_a_user_entirely_within_their_university(self) -> None:
        grants = [Grant(1, UserRole.STUDENT), Grant(1, UserRole.TA)]
        assert policy.can_manage_user(UNI_ADMIN_OF_1, grants)

    def test_university_admin_may_not_manage_a_user_with_roles_elsewhere(self) -> None:
        assert not policy.can_manage_user(UNI_ADMIN_OF_1, [Grant(1, UserRole.STUDENT), Grant(2, UserRole.STUDENT)])

    def test_university_admin_may_not_manage_a_platform_admin(self) -> None:
        assert not policy.can_manage_user(UNI_ADMIN_OF_1, [Grant(1, UserRole.PLATFORM_ADMIN)])

    def test_nobody_but_platform_admins_manages_a_user_without_roles(self) -> None:
        assert not policy.can_manage_user(UNI_ADMIN_OF_1, [])


class TestEnsureUserManageable:
    def test_outsider_gets_not_found(self) -> None:
        with pytest.raises(NotFound):
            policy.ensure_user_manageable(UNI_ADMIN_OF_1, [Grant(2, UserRole.STUDENT)])

    def test_colleague_without_the_right_gets_forbidden(self) -> None:
        student = _principal(Grant(1, UserRole.STUDENT))
        with pytest.raises(Forbidden):
            policy.ensure_user_manageable(student, [Grant(1, UserRole.TA)])


class TestCanViewUniversity:
    def test_active_university_is_public(self) -> None:
        assert policy.can_view_university(None, 1, True)

    def test_inactive_university_is_for_its_admins(self) -> None:
        assert policy.can_view_university(UNI_ADMIN_OF_1, 1, False)
        assert not policy.can_view_university(_principal(Grant(1, UserRole.STUDENT)), 1, False)
