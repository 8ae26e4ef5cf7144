"""The enrolment state machine, as data: which transitions exist and who may make them. Pure, no I/O."""

from __future__ import annotations

from enum import Flag, auto

from twosigma.enums import EnrollmentStatus as S
from twosigma.kit.errors import Conflict, Forbidden


class Actor(Flag):
    NONE = 0
    SELF = auto()  # the enrolled user
    STAFF = auto()  # someone who may edit the course (authz.can_edit_course)
    SYSTEM = auto()  # the platform itself (course progress reaching 100)


TRANSITIONS: dict[tuple[S, S], Actor] = {
    (S.PENDING, S.ACTIVE): Actor.STAFF,
    (S.ACTIVE, S.DROPPED): Actor.SELF | Actor.STAFF,
    (S.ACTIVE, S.COMPLETED): Actor.STAFF | Actor.SYSTEM,
    (S.DROPPED, S.ACTIVE): Actor.SELF | Actor.STAFF,
    (S.WAITLISTED, S.DROPPED): Actor.SELF | Actor.STAFF,
}


class InvalidTransition(Conflict):
    code = "invalid_transition"

    def __init__(self, current: S, target: S) -> None:
        super().__init__(
            f"An enrolment cannot go from {current.value} to {target.value}.",
            details={"from": current.value, "to": target.value},
        )


def check_transition(current: S, target: S, actor: Actor) -> None:
    """409 if the transition does not exist; 403 if it exists but `actor` may not make it."""
    allowed = TRANSITIONS.get((current, target))
    if allowed is None:
        raise InvalidTransition(current, target)
    if not (allowed & actor):
        raise Forbidden(f"You may not move this enrolment from {current.value} to {target.value}.")


def frees_seat(current: S, target: S) -> bool:
    """Seats are ACTIVE enrolments: leaving ACTIVE frees one."""
    return current is S.ACTIVE and target is not S.ACTIVE
