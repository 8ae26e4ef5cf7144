"""What the seed remembers between phases: bounded by the structure (universities, users, courses, modules),
never by the number of progress rows or messages."""

from __future__ import annotations

import random
from array import array
from dataclasses import dataclass, field
from datetime import datetime

from twosigma.demo.copy import Copier
from twosigma.demo.sizes import SizeSpec

DEMO_PASSWORD = "demo-password-1"
ADMIN_EMAIL = "admin@demo.twosigma.dev"
UNIVERSITY_ADMIN_EMAIL = "uniadmin@demo.twosigma.dev"
INSTRUCTOR_EMAIL = "instructor@demo.twosigma.dev"
STUDENT_EMAIL = "student@demo.twosigma.dev"
MARKER_KEY = "demo.seeded"


@dataclass
class Uni:
    id: int
    name: str
    short_code: str
    web: str
    country: int  # index into vocab.COUNTRIES
    locale: str
    time_zone: str
    departments: list[tuple[int, str]] = field(default_factory=list)  # (id, code)
    students: array[int] = field(default_factory=lambda: array("i"))
    courses: list[int] = field(default_factory=list)  # indexes into World.courses (enrolable ones)


@dataclass
class Offering:
    id: int
    starts_at: datetime
    ends_at: datetime
    enrollment_start: datetime
    capacity: int | None
    seats_taken: int = 0


@dataclass
class CourseInfo:
    id: int
    uni: int
    title: str
    code: str
    subject: str
    first_item: int
    published_items: int = 0
    # Published modules in preorder: (module id, first item offset, end offset), offsets relative to first_item.
    modules: list[tuple[int, int, int]] = field(default_factory=list)
    # Published leaves in order: (first item offset, module id, title), for looking up an item's module.
    leaves: list[tuple[int, int, str]] = field(default_factory=list)
    past: Offering | None = None
    current: Offering | None = None


@dataclass
class World:
    seed: int
    spec: SizeSpec
    rng: random.Random
    copier: Copier
    now: datetime
    password_hash: str
    universities: list[Uni] = field(default_factory=list)
    subjects: list[tuple[int, str]] = field(default_factory=list)
    leaf_subjects: list[tuple[int, str]] = field(default_factory=list)
    # department code → the leaf subjects it teaches (vocab.DEPARTMENT_SUBJECTS)
    department_subjects: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    content_types: dict[str, int] = field(default_factory=dict)
    item_types: array[int] = field(default_factory=lambda: array("B"))  # type index per item, from first_item_id
    first_item_id: int = 0
    courses: list[CourseInfo] = field(default_factory=list)
    first_user_id: int = 0
    admin_id: int = 0
    student_id: int = 0
    all_user_ids: array[int] = field(default_factory=lambda: array("i"))
