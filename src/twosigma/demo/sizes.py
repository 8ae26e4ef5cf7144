"""How big each demo size is. Counts marked ~ are drawn at random (deterministically, from the seed)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Size(StrEnum):
    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"


@dataclass(frozen=True)
class SizeSpec:
    universities: int
    departments_per_university: int
    users: int
    courses: int
    units: int  # per course
    chapters: int  # per unit
    lessons: int  # per chapter
    items_per_lesson: tuple[int, int]  # inclusive range
    enrolments_per_student: float  # mean
    completed_share: float  # of enrolments in a past offering
    progress_mean_items: int | None  # mean items touched by an ACTIVE enrolment (None: a third of the course)
    chat_share: float  # of enrolments with progress that also have a tutor chat
    turns: tuple[int, int]  # user+assistant pairs per chat session, inclusive range


SIZES: dict[Size, SizeSpec] = {
    # ~540 content items, ~10k progress rows: a couple of seconds.
    Size.SMALL: SizeSpec(2, 3, 200, 10, 2, 3, 3, (2, 4), 2.0, 0.4, None, 0.5, (2, 5)),
    # ~11k content items, ~400k progress rows.
    Size.MEDIUM: SizeSpec(5, 5, 5_000, 100, 3, 3, 4, (2, 4), 2.5, 0.3, None, 0.5, (2, 6)),
    # 2,000 courses x 100 lessons x ~5.5 items = ~1.1M content items; ~6M content progress rows; ~1.1M messages.
    Size.LARGE: SizeSpec(20, 8, 100_000, 2_000, 5, 4, 5, (5, 6), 2.5, 0.08, 14, 0.7, (3, 9)),
}
