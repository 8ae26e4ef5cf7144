"""Who is asking: the signed-in user and their role grants, loaded once per request.

Suspension is applied here, once, rather than route by route: a Principal's `grants` are the grants that *work*,
without those of universities where the user is suspended, so every role check of authz.policy (and therefore
every route) already treats a suspended member as having no role there. The universities themselves are kept in
`suspended_in`, which the enrolment checks of authz.policy consult (enrolments are read per route, not here).
PLATFORM_ADMIN is not a university role: a suspension never removes it (and platform admins cannot be suspended).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from twosigma.enums import UserRole


@dataclass(frozen=True, slots=True)
class UserSnapshot:
    """The signed-in user's own columns as read at the start of the request (no ORM instance, no session).

    A route that changes the user loads it into its own session (`session.get(User, principal.id)`).
    """

    id: int
    email: str
    full_name: str
    locale: str
    time_zone: str
    is_active: bool
    current_streak_days: int
    last_activity_date: date | None
    created_at: datetime
    updated_at: datetime
    email_verified_at: datetime | None = None


@dataclass(frozen=True)
class Grant:
    university_id: int
    role: UserRole
    department_id: int | None = None


@dataclass(frozen=True)
class Principal:
    user: UserSnapshot
    grants: tuple[Grant, ...] = field(default_factory=tuple)  # the effective ones: see `build`
    suspended_in: frozenset[int] = frozenset()

    @classmethod
    def build(cls, user: UserSnapshot, grants: Iterable[Grant], suspended_in: Iterable[int]) -> Principal:
        """The principal from everything stored: grants in universities of `suspended_in` do not count."""
        suspended = frozenset(suspended_in)
        effective = tuple(g for g in grants if g.role is UserRole.PLATFORM_ADMIN or g.university_id not in suspended)
        return cls(user=user, grants=effective, suspended_in=suspended)

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def is_platform_admin(self) -> bool:
        return any(g.role is UserRole.PLATFORM_ADMIN for g in self.grants)

    def grants_in(self, university_id: int) -> tuple[Grant, ...]:
        return tuple(g for g in self.grants if g.university_id == university_id)

    def roles_in(self, university_id: int) -> frozenset[UserRole]:
        return frozenset(g.role for g in self.grants_in(university_id))

    def university_ids(self) -> frozenset[int]:
        return frozenset(g.university_id for g in self.grants)

    def is_suspended_in(self, university_id: int) -> bool:
        return university_id in self.suspended_in
