"""Phases 1-2: countries, universities, departments, the taxonomy, content types; users, profiles, preferences
and roles (every role, plus the documented demo accounts)."""

from __future__ import annotations

import unicodedata
from datetime import date, timedelta

from twosigma.demo.content import GRADABLE, TYPE_NAMES
from twosigma.demo.vocab import CONTENT_TYPES, COUNTRIES, DEPARTMENT_SUBJECTS, DEPARTMENTS, DOMAINS
from twosigma.demo.world import (
    ADMIN_EMAIL,
    INSTRUCTOR_EMAIL,
    STUDENT_EMAIL,
    UNIVERSITY_ADMIN_EMAIL,
    Uni,
    World,
)
from twosigma.enums import Grade, LearningGoal, StudyLevel, UserRole


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


async def seed_tenants_and_taxonomy(w: World) -> None:
    c = w.copier
    conn = c.conn
    c.start_phase("tenants and taxonomy", w.spec.universities + len(DOMAINS) + len(CONTENT_TYPES))
    countries = c.table("countries", ["id", "code", "name"])
    existing = {row["code"]: row["id"] for row in await conn.fetch("SELECT id, code FROM countries")}
    country_ids: list[int] = []
    for code, name, *_ in COUNTRIES:
        if code not in existing:
            existing[code] = c.new_id("countries")
            countries.add(existing[code], code, name)
        country_ids.append(existing[code])
    await countries.flush()

    unis = c.table("universities", ["id", "name", "short_code", "country_id", "time_zone", "website_url", "is_active"])
    departments = c.table("departments", ["id", "university_id", "name", "code"])
    slots = [
        (ci, u)
        for round_ in range(8)
        for ci, country in enumerate(COUNTRIES)
        if round_ < len(country[4])
        for u in [country[4][round_]]
    ]
    for n in range(w.spec.universities):
        country_index, (name, web) = slots[n % len(slots)]
        campus = n // len(slots)
        if campus:
            name, web = f"{name} (Campus {campus + 1})", f"{web}{campus + 1}"
        _, _, locale, tz, *_ = COUNTRIES[country_index]
        uni = Uni(c.new_id("universities"), name, f"DEMO-{web.upper()}"[:20], web, country_index, locale, tz)
        unis.add(uni.id, name, uni.short_code, country_ids[country_index], tz, f"https://{web}.demo.twosigma.dev", True)
        for d in range(w.spec.departments_per_university):
            dept_name, code = DEPARTMENTS[d % len(DEPARTMENTS)]
            dept_id = c.new_id("departments")
            departments.add(dept_id, uni.id, dept_name, code)
            uni.departments.append((dept_id, code))
        w.universities.append(uni)
        c.reporter.advance()
    await unis.flush()

    domains = c.table("domains", ["id", "name"])
    subjects = c.table("subjects", ["id", "domain_id", "parent_subject_id", "name"])
    existing = {row["name"]: row["id"] for row in await conn.fetch("SELECT id, name FROM domains")}
    for domain, tree in DOMAINS.items():
        domain_id = existing.get(domain)
        if domain_id is None:
            domain_id = c.new_id("domains")
            domains.add(domain_id, domain)
        for subject, children in tree.items():
            subject_id = c.new_id("subjects")
            subjects.add(subject_id, domain_id, None, subject)
            w.subjects.append((subject_id, subject))
            for child in children:
                child_id = c.new_id("subjects")
                subjects.add(child_id, domain_id, subject_id, child)
                w.subjects.append((child_id, child))
                w.leaf_subjects.append((child_id, child))
                for code, taught in DEPARTMENT_SUBJECTS.items():
                    if subject in taught:
                        w.department_subjects.setdefault(code, []).append((child_id, child))
        c.reporter.advance()
    await domains.flush()

    # The built-in `quiz` type exists already (the seed installs the built-ins first) and is reused.
    types = c.table("content_types", ["id", "name", "label", "description", "is_active", "gradable"])
    existing = {row["name"]: row["id"] for row in await conn.fetch("SELECT id, name FROM content_types")}
    for name, label, description, *_ in CONTENT_TYPES:
        if name not in existing:
            existing[name] = c.new_id("content_types")
            types.add(existing[name], name, label, description, True, name in GRADABLE)
        w.content_types[name] = existing[name]
        c.reporter.advance()
    assert list(w.content_types) == TYPE_NAMES
    await c.end_phase()


def _role_plan(w: World, uni_index: int, n_users: int) -> list[tuple[UserRole, int | None]]:
    """Roles of a university's users in order: one admin, a department admin per department, instructors, TAs,
    then students."""
    uni = w.universities[uni_index]
    depts = uni.departments
    courses_here = max(1, w.spec.courses // w.spec.universities)
    instructors = max(2, courses_here * 3 // 5)
    plan: list[tuple[UserRole, int | None]] = [(UserRole.UNIVERSITY_ADMIN, None)]
    plan += [(UserRole.DEPARTMENT_ADMIN, dept_id) for dept_id, _ in depts]
    plan += [(UserRole.INSTRUCTOR, depts[i % len(depts)][0]) for i in range(instructors)]
    plan += [(UserRole.TA, None) for _ in range(max(1, instructors // 2))]
    plan += [(UserRole.STUDENT, None)] * max(1, n_users - len(plan))
    return plan


async def seed_users(w: World) -> None:
    c, rng, spec = w.copier, w.rng, w.spec
    c.start_phase("users", spec.users + 1)
    users = c.table(
        "users",
        ["id", "email", "password_hash", "full_name", "locale", "time_zone", "is_active", "created_at", "updated_at"],
    )
    profiles = c.table("user_profiles", ["id", "user_id", "date_of_birth", "learning_goal", "study_level", "grade"])
    prefs = c.table("user_subject_preferences", ["id", "user_id", "subject_id"])
    roles = c.table("user_university_roles", ["id", "user_id", "university_id", "role", "department_id"])
    goals, levels, grades = list(LearningGoal), list(StudyLevel), list(Grade)
    today = w.now.date()
    w.first_user_id = c.next_ids["users"]

    # The platform administrator of the demo: a PLATFORM_ADMIN row in the first demo university.
    first = w.universities[0]
    w.admin_id = c.new_id("users")
    users.add(
        w.admin_id,
        ADMIN_EMAIL,
        w.password_hash,
        "Demo Platform Admin",
        "en",
        first.time_zone,
        True,
        w.now - timedelta(days=400),
        w.now,
    )
    roles.add(c.new_id("user_university_roles"), w.admin_id, first.id, UserRole.PLATFORM_ADMIN.value, None)
    w.all_user_ids.append(w.admin_id)
    c.reporter.advance()

    weights = [rng.uniform(0.6, 1.4) for _ in w.universities]
    total_weight = sum(weights)
    for ui, uni in enumerate(w.universities):
        n_users = max(8, round(spec.users * weights[ui] / total_weight))
        _, _, locale, tz, _, first_names, last_names = COUNTRIES[uni.country]
        for position, (role, dept_id) in enumerate(_role_plan(w, ui, n_users)):
            user_id = c.new_id("users")
            first_name, last_name = rng.choice(first_names), rng.choice(last_names)
            full_name = f"{first_name} {last_name}"
            email = f"{_ascii(first_name)}.{_ascii(last_name)}.{user_id}@{uni.web}.demo.twosigma.dev"
            if ui == 0:  # the documented accounts are the first of their role in the first university
                fixed = {(UserRole.UNIVERSITY_ADMIN, 0): (UNIVERSITY_ADMIN_EMAIL, "Demo University Admin")}
                n_dept = len(uni.departments)
                fixed[(UserRole.INSTRUCTOR, 1 + n_dept)] = (INSTRUCTOR_EMAIL, "Demo Instructor")
                if role is UserRole.STUDENT and w.student_id == 0:
                    fixed[(role, position)] = (STUDENT_EMAIL, "Demo Student")
                    w.student_id = user_id
                email, full_name = fixed.get((role, position), (email, full_name))
            created = w.now - timedelta(days=rng.uniform(10, 720))
            users.add(
                user_id,
                email,
                w.password_hash,
                full_name,
                locale,
                tz,
                rng.random() > 0.02 or email.endswith("@demo.twosigma.dev"),
                created,
                created,
            )
            roles.add(c.new_id("user_university_roles"), user_id, uni.id, role.value, dept_id)
            w.all_user_ids.append(user_id)
            if role is UserRole.STUDENT:
                uni.students.append(user_id)
                age_days = rng.randint(17 * 365, 35 * 365)
                profiles.add(
                    c.new_id("user_profiles"),
                    user_id,
                    today - timedelta(days=age_days),
                    rng.choice(goals).value,
                    rng.choice(levels).value,
                    rng.choice(grades).value,
                )
                for subject_id, _ in rng.sample(w.subjects, rng.randint(1, 3)):
                    prefs.add(c.new_id("user_subject_preferences"), user_id, subject_id)
            elif rng.random() < 0.5:
                profiles.add(
                    c.new_id("user_profiles"),
                    user_id,
                    date(1970, 1, 1) + timedelta(days=rng.randint(0, 9000)),
                    LearningGoal.SKILL_DEVELOPMENT.value,
                    StudyLevel.PROFESSIONAL.value,
                    None,
                )
            c.reporter.advance()
            await c.maybe_flush()
    await c.end_phase()
