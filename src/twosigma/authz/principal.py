"""Who is asking: the signed-in user and their role grants, loaded once per request."""

from __future__ import annotations

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


@dataclass(frozen=True)
class Grant:
    university_id: int
    role: UserRole
    department_id: int | None = None


@dataclass(frozen=True)
class Principal:
    user: UserSnapshot
    grants: tuple[Grant, ...] = field(default_factory=tuple)

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
