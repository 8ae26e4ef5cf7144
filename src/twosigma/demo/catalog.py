"""Phase 3: courses (subjects, prerequisites), their offerings, module trees and content items."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from twosigma.demo.content import TYPE_NAMES, TYPE_WEIGHTS, make_item
from twosigma.demo.vocab import COURSE_PREFIXES, DEPARTMENTS, TOPIC_WORDS
from twosigma.demo.world import CourseInfo, Offering, World
from twosigma.enums import CourseLevel, ModuleType, Visibility

LEVELS = (
    [CourseLevel.INTRODUCTORY] * 4 + [CourseLevel.INTERMEDIATE] * 3 + [CourseLevel.ADVANCED] * 2 + [CourseLevel.EXPERT]
)
QUIZ_PROMPT = "Demo Quiz Coach"
DEPARTMENT_NAMES = {code: name for name, code in DEPARTMENTS}


def with_article(phrase: str) -> str:
    """`an introductory course`, `a demo`: the article that fits the sound of the first letter (good enough for
    the demo's own words)."""
    return f"{'an' if phrase[:1].lower() in 'aeiou' else 'a'} {phrase}"


def module_description(title: str, kind: ModuleType, course_title: str) -> str:
    if kind is ModuleType.COURSE_ROOT:
        return f"Every unit of {course_title}, in the order they are taught."
    return f"{title}, in {course_title}."


def _term(at: datetime) -> str:
    season = "Spring" if at.month <= 5 else "Summer" if at.month <= 8 else "Fall"
    return f"{season} {at.year}"


class CatalogWriter:
    def __init__(self, w: World) -> None:
        self.w = w
        c = w.copier
        self.courses = c.table(
            "courses",
            [
                "id",
                "university_id",
                "department_id",
                "primary_subject_id",
                "title",
                "code",
                "description",
                "level",
                "credit_hours",
                "is_published",
                "is_coming_soon",
            ],
        )
        self.course_subjects = c.table("course_subjects", ["id", "course_id", "subject_id"])
        self.prerequisites = c.table("course_prerequisites", ["id", "course_id", "prerequisite_course_id"])
        self.offerings = c.table(
            "course_offerings",
            [
                "id",
                "course_id",
                "university_id",
                "term_name",
                "starts_at",
                "ends_at",
                "enrollment_start",
                "enrollment_end",
                "visibility",
                "capacity",
                "invite_code",
            ],
        )
        self.modules = c.table(
            "modules",
            [
                "id",
                "course_id",
                "parent_module_id",
                "title",
                "description",
                "module_type",
                "sequence_index",
                "depth",
                "is_published",
            ],
        )
        self.items = c.table(
            "content_items",
            [
                "id",
                "module_id",
                "course_id",
                "content_type_id",
                "title",
                "description",
                "data_json",
                "learning_objectives",
                "sequence_index",
                "estimated_duration_seconds",
                "prompt_name",
                "prompt_label",
            ],
        )

    def module(
        self,
        course: CourseInfo,
        parent: int | None,
        title: str,
        kind: ModuleType,
        index: int,
        depth: int,
        published: bool = True,
    ) -> int:
        module_id = self.w.copier.new_id("modules")
        self.modules.add(
            module_id,
            course.id,
            parent,
            title,
            module_description(title, kind, course.title),
            kind.value,
            index,
            depth,
            published,
        )
        return module_id

    def leaf_items(self, course: CourseInfo, module_id: int, count: int) -> None:
        w = self.w
        for index in range(count):
            item_id = w.copier.new_id("content_items")
            type_index = w.rng.choices(range(len(TYPE_NAMES)), TYPE_WEIGHTS)[0]
            w.item_types.append(type_index)
            type_name = TYPE_NAMES[type_index]
            item = make_item(w.seed, item_id, type_name, course.subject)
            prompt = QUIZ_PROMPT if type_name == "quiz" and item_id % 3 == 0 else None
            self.items.add(
                item_id,
                module_id,
                course.id,
                w.content_types[type_name],
                item.title,
                item.description,
                json.dumps(item.data),
                json.dumps(item.objectives),
                index,
                item.duration,
                prompt,
                "production",
            )

    def tree(self, course: CourseInfo, draft_unit: bool) -> None:
        """COURSE_ROOT → units → chapters → lessons (some split into sections); items on the leaves only, so the
        items of any subtree are contiguous ids in preorder."""
        spec, rng = self.w.spec, self.w.rng
        root = self.module(course, None, course.title, ModuleType.COURSE_ROOT, 0, 0)
        course.modules.append((root, 0, 0))

        def open_module(module_id: int) -> int:
            course.modules.append((module_id, self._offset(course), 0))
            return len(course.modules) - 1

        def close_module(slot: int) -> None:
            module_id, lo, _ = course.modules[slot]
            course.modules[slot] = (module_id, lo, self._offset(course))

        for u in range(spec.units):
            topic = TOPIC_WORDS[(course.id + u) % len(TOPIC_WORDS)]
            unit = self.module(course, root, f"Unit {u + 1}: {topic}", ModuleType.UNIT, u, 1)
            unit_slot = open_module(unit)
            for ch in range(spec.chapters):
                chapter = self.module(course, unit, f"Chapter {u + 1}.{ch + 1}", ModuleType.CHAPTER, ch, 2)
                chapter_slot = open_module(chapter)
                for le in range(spec.lessons):
                    last = le == spec.lessons - 1
                    kind = ModuleType.QUIZ if last else (ModuleType.LAB if le == 1 and ch % 2 else ModuleType.LESSON)
                    title = "Chapter quiz" if last else f"Lesson {u + 1}.{ch + 1}.{le + 1}"
                    lesson = self.module(course, chapter, title, kind, le, 3)
                    lesson_slot = open_module(lesson)
                    count = rng.randint(*spec.items_per_lesson)
                    if kind is ModuleType.LESSON and count >= 2 and rng.random() < 0.2:
                        split = count // 2
                        for s, part in enumerate((split, count - split)):
                            section = self.module(course, lesson, f"{title}, part {s + 1}", ModuleType.SECTION, s, 4)
                            section_slot = open_module(section)
                            course.leaves.append((self._offset(course), section, f"{title}, part {s + 1}"))
                            self.leaf_items(course, section, part)
                            close_module(section_slot)
                    else:
                        course.leaves.append((self._offset(course), lesson, title))
                        self.leaf_items(course, lesson, count)
                    close_module(lesson_slot)
                close_module(chapter_slot)
            close_module(unit_slot)
        course.published_items = self._offset(course)
        course.modules[0] = (root, 0, course.published_items)
        if draft_unit:  # unpublished material an instructor is still writing: invisible to students
            unit = self.module(course, root, f"Unit {spec.units + 1}: Draft", ModuleType.UNIT, spec.units, 1, False)
            lesson = self.module(course, unit, "Draft lesson", ModuleType.LESSON, 0, 2, False)
            self.leaf_items(course, lesson, 2)

    def _offset(self, course: CourseInfo) -> int:
        return self.w.copier.next_ids["content_items"] - course.first_item

    def offering(
        self, course: CourseInfo, start: datetime, visibility: Visibility, capacity: int | None, weeks: int = 15
    ) -> Offering:
        w = self.w
        offering = Offering(
            w.copier.new_id("course_offerings"),
            start,
            start + timedelta(weeks=weeks),
            start - timedelta(days=30),
            capacity,
        )
        invite = f"DEMO-{w.rng.getrandbits(48):012x}" if visibility is Visibility.INVITE_ONLY else None
        self.offerings.add(
            offering.id,
            course.id,
            w.universities[course.uni].id,
            _term(start),
            offering.starts_at,
            offering.ends_at,
            offering.enrollment_start,
            start + timedelta(weeks=4),
            visibility.value,
            capacity,
            invite,
        )
        return offering


async def seed_catalog(w: World) -> None:
    c, rng, spec = w.copier, w.rng, w.spec
    c.start_phase("courses and content", spec.courses)
    writer = CatalogWriter(w)
    w.first_item_id = c.next_ids["content_items"]
    students_per_course = sum(len(u.students) for u in w.universities) * spec.enrolments_per_student / spec.courses
    current_start = w.now - timedelta(weeks=6)
    past_start = current_start - timedelta(weeks=26)
    per_uni: dict[int, list[int]] = {}
    for n in range(spec.courses):
        ui = n % len(w.universities)
        uni = w.universities[ui]
        rank = len(per_uni.setdefault(ui, []))
        dept_id, dept_code = uni.departments[rank % len(uni.departments)]
        taught = w.department_subjects.get(dept_code) or w.leaf_subjects
        subject_id, subject = rng.choice(taught)
        level = LEVELS[rank % len(LEVELS)]
        course = CourseInfo(
            c.new_id("courses"),
            ui,
            f"{rng.choice(COURSE_PREFIXES[level.value])} {subject}",
            f"{dept_code}{101 + rank}",
            subject,
            c.next_ids["content_items"],
        )
        forced = ui == 0 and rank < 2  # the demo student's courses
        showcase = ui == 0 and rank in (2, 3)  # so that even the small size has every visibility and a waitlist
        published = forced or showcase or rng.random() < 0.88
        coming_soon = published and not (forced or showcase) and rng.random() < 0.05
        writer.courses.add(
            course.id,
            uni.id,
            dept_id,
            subject_id,
            course.title,
            course.code,
            f"{course.title}: {with_article(level.value.lower())} course of {DEPARTMENT_NAMES[dept_code]} "
            f"({dept_code}).",
            level.value,
            rng.choice([1.5, 2.0, 3.0, 3.0, 4.0, 5.0]),
            published,
            coming_soon,
        )
        writer.course_subjects.add(c.new_id("course_subjects"), course.id, subject_id)
        for other_id, _ in rng.sample(taught, min(len(taught), rng.randint(0, 2))):
            if other_id != subject_id:
                writer.course_subjects.add(c.new_id("course_subjects"), course.id, other_id)
        earlier = per_uni[ui]
        if level is not CourseLevel.INTRODUCTORY and earlier:  # only earlier courses: never a cycle
            for prereq in rng.sample(earlier, min(len(earlier), rng.randint(0, 2))):
                writer.prerequisites.add(c.new_id("course_prerequisites"), course.id, w.courses[prereq].id)
        writer.tree(course, draft_unit=published and rng.random() < 0.1)
        if coming_soon:
            writer.offering(course, w.now + timedelta(weeks=8), Visibility.PUBLIC, None)
        elif published:
            course.past = writer.offering(course, past_start, Visibility.PUBLIC, None)
            visibility = Visibility.PUBLIC
            capacity = None
            if showcase:
                visibility = Visibility.INVITE_ONLY if rank == 2 else Visibility.UNLISTED
                capacity = 3 if rank == 2 else None
            elif not forced:
                visibility = rng.choices(list(Visibility), [70, 15, 15])[0]
                if rng.random() < 0.25:
                    capacity = max(2, int(students_per_course * rng.uniform(0.3, 0.8)))
            course.current = writer.offering(course, current_start, visibility, capacity)
            uni.courses.append(len(w.courses))
        per_uni[ui].append(len(w.courses))
        w.courses.append(course)
        c.reporter.advance()
        await c.maybe_flush()
    await c.end_phase()
