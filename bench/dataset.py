"""The bench's purpose-built data set, written with COPY (asyncpg) on a freshly migrated database.

Everything the scenarios need, and nothing else: one university, students sharing one bcrypt cost-12 hash, courses
of chosen sizes (all published, one PUBLIC offering each), ACTIVE enrolments, pre-existing progress for the
writers, chat sessions with chosen history lengths, a 4-level composed prompt and an API key.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import asyncpg
import bcrypt
from sqlalchemy import text as sql_text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from twosigma.api_keys.service import create_key
from twosigma.config import Settings
from twosigma.db.migrate import upgrade
from twosigma.demo.copy import Copier, QuietReporter
from twosigma.prompts.schemas import PromptCreate
from twosigma.prompts.services.changes import Actor, create_prompt
from twosigma.retrieval.services import indexing
from twosigma.tutor.builtin_prompts import install_builtin_prompts

PASSWORD = "bench-Passw0rd"
PROMPT_ROOT = "bench/composed-root"
TABLES = [
    "countries",
    "universities",
    "domains",
    "subjects",
    "content_types",
    "users",
    "user_university_roles",
    "courses",
    "course_offerings",
    "modules",
    "content_items",
    "course_enrollments",
    "user_content_progress",
    "chat_sessions",
    "chat_messages",
]


@dataclass
class CourseInfo:
    course_id: int
    offering_id: int
    modules: int
    items: list[int]


@dataclass
class DataSet:
    admin_id: int
    students: list[int]  # ids; index 0.. used by scenarios
    courses: dict[str, CourseInfo] = field(default_factory=dict)
    chats: dict[str, list[int]] = field(default_factory=dict)  # label -> chat session ids
    chat_lengths: dict[int, int] = field(default_factory=dict)  # messages -> session id (the curve)
    api_public: str = ""
    api_secret: str = ""
    seconds: float = 0.0
    rows: int = 0
    pg_version: str = ""


@dataclass(frozen=True)
class Plan:
    students: int
    tree_sizes: tuple[int, ...]  # items per course; modules = items / 5
    main_items: int
    writers: int
    progress_rows_per_writer: int
    chat_sessions: int
    chat_lengths: tuple[int, ...]


# A vocabulary for the items' readings (retrieval scenario): 2,002 made-up words, every reading 40 of them, so a
# word occurs in about 2% of the items and a three-word question matches several hundred of the 10,000, as a
# question about a common topic of a real course would.
VOCABULARY = [
    f"{a}{b}{c}"
    for a in ("pho", "ker", "mal", "tor", "vin", "sal", "dre", "qua", "lum", "zen", "bri", "cor", "fen", "gal")
    for b in ("ta", "ri", "mo", "ne", "su", "lo", "ka", "pe", "di", "vu", "xo")
    for c in ("n", "x", "ra", "lo", "sta", "um", "gen", "nce", "ty", "ma", "lis", "tor", "ine")
]


def reading(seed: int) -> str:
    pick = random.Random(seed)
    return " ".join(pick.choice(VOCABULARY) for _ in range(40)) + "."


def plan_for(smoke: bool) -> Plan:
    if smoke:
        return Plan(60, (100, 500), 500, 4, 50, 20, (10, 100))
    return Plan(1_100, (100, 1_000, 3_000, 10_000), 10_000, 32, 2_000, 1_000, (10, 100, 1_000, 5_000))


def _shape(n_modules: int) -> tuple[int, int, int]:
    """(units, chapters, lessons) for a course of `n_modules` modules, the root included."""
    units = max(1, round(n_modules / 100))
    chapters = max(units, round(n_modules / 25))
    lessons = max(1, n_modules - 1 - units - chapters)
    return units, chapters, lessons


def _course(c: Copier, uni: int, subject: int, ctype: int, items: int, label: str, now: datetime) -> CourseInfo:
    course_id = c.new_id("courses")
    c.table("courses", ["id", "university_id", "primary_subject_id", "title", "code", "is_published"]).add(
        course_id, uni, subject, f"Bench course {label}", f"B{course_id}", True
    )
    offering_id = c.new_id("course_offerings")
    c.table("course_offerings", ["id", "course_id", "university_id", "term_name", "starts_at", "ends_at"]).add(
        offering_id, course_id, uni, "Bench term", now - timedelta(days=30), now + timedelta(days=60)
    )
    mods = c.table(
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
    units, chapters, lessons = _shape(max(5, items // 5))
    root = c.new_id("modules")
    mods.add(root, course_id, None, f"Bench course {label}", None, "COURSE_ROOT", 0, 0, True)
    unit_ids = [c.new_id("modules") for _ in range(units)]
    for i, m in enumerate(unit_ids):
        mods.add(m, course_id, root, f"Unit {i + 1}", "A unit of the bench course.", "UNIT", i, 1, True)
    chapter_ids = [c.new_id("modules") for _ in range(chapters)]
    for i, m in enumerate(chapter_ids):
        mods.add(m, course_id, unit_ids[i % units], f"Chapter {i + 1}", None, "CHAPTER", i // units, 2, True)
    lesson_ids = [c.new_id("modules") for _ in range(lessons)]
    for i, m in enumerate(lesson_ids):
        mods.add(m, course_id, chapter_ids[i % chapters], f"Lesson {i + 1}", None, "LESSON", i // chapters, 3, True)
    table = c.table(
        "content_items",
        [
            "id",
            "module_id",
            "course_id",
            "content_type_id",
            "title",
            "description",
            "sequence_index",
            "estimated_duration_seconds",
            "data_json",
        ],
    )
    item_ids = []
    for i in range(items):
        item = c.new_id("content_items")
        item_ids.append(item)
        body = json.dumps({"body": reading(course_id * 100_003 + i)})
        table.add(
            item,
            lesson_ids[i % lessons],
            course_id,
            ctype,
            f"Item {i + 1}",
            "Read and practise.",
            i // lessons,
            300,
            body,
        )
    return CourseInfo(course_id, offering_id, 1 + units + chapters + lessons, item_ids)


async def build(url: str, settings: Settings, smoke: bool) -> DataSet:
    """Migrate the (empty) database at `url` and write the data set."""
    started = time.perf_counter()
    engine = create_async_engine(url)
    try:
        await upgrade(engine)
        plan = plan_for(smoke)
        pw_hash = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=12)).decode()
        now = datetime.now(UTC)
        rng = random.Random(11)
        async with engine.begin() as conn:
            raw = (await conn.get_raw_connection()).driver_connection
            assert isinstance(raw, asyncpg.Connection)
            c = Copier(raw, QuietReporter())
            await c.reserve_ids(TABLES)
            country = c.new_id("countries")
            c.table("countries", ["id", "code", "name"]).add(country, "ZZ", "Benchland")
            uni = c.new_id("universities")
            c.table("universities", ["id", "name", "short_code", "country_id"]).add(uni, "Bench U", "BU", country)
            domain = c.new_id("domains")
            c.table("domains", ["id", "name"]).add(domain, "Bench domain")
            subject = c.new_id("subjects")
            c.table("subjects", ["id", "domain_id", "name"]).add(subject, domain, "Bench subject")
            ctype = c.new_id("content_types")
            c.table("content_types", ["id", "name", "label"]).add(ctype, "bench_lesson", "Lesson")
            users = c.table("users", ["id", "email", "password_hash", "full_name"])
            roles = c.table("user_university_roles", ["id", "user_id", "university_id", "role"])
            admin = c.new_id("users")
            users.add(admin, "admin@bench.test", pw_hash, "Bench Admin")
            roles.add(c.new_id("user_university_roles"), admin, uni, "PLATFORM_ADMIN")
            students = []
            for n in range(plan.students):
                uid = c.new_id("users")
                students.append(uid)
                users.add(uid, f"student{n}@bench.test", pw_hash, f"Bench Student {n}")
                roles.add(c.new_id("user_university_roles"), uid, uni, "STUDENT")
            data = DataSet(admin_id=admin, students=students)
            sizes = sorted({*plan.tree_sizes, plan.main_items})
            for size in sizes:
                data.courses[f"items{size}"] = _course(c, uni, subject, ctype, size, str(size), now)
            data.courses["main"] = data.courses[f"items{plan.main_items}"]
            enrol = c.table("course_enrollments", ["id", "user_id", "course_offering_id", "status"])
            for size in sizes:
                info = data.courses[f"items{size}"]
                # Every student is ACTIVE in the main course: a chat without a content item needs an ACTIVE
                # enrolment somewhere (authz/tutor.py), and every student owns one of the streams' chats.
                enrolled = students if info is data.courses["main"] else students[: max(plan.writers, 4)]
                for uid in enrolled:
                    enrol.add(c.new_id("course_enrollments"), uid, info.offering_id, "ACTIVE")
            progress = c.table(
                "user_content_progress",
                [
                    "id",
                    "user_id",
                    "course_offering_id",
                    "content_item_id",
                    "progress_percent",
                    "attempts_count",
                    "first_started_at",
                    "last_interacted_at",
                ],
            )
            main = data.courses["main"]
            for uid in students[: plan.writers]:
                for item in rng.sample(main.items, min(plan.progress_rows_per_writer, len(main.items))):
                    progress.add(
                        c.new_id("user_content_progress"), uid, main.offering_id, item, rng.randint(1, 60), 1, now, now
                    )
            sessions = c.table("chat_sessions", ["id", "user_id", "content_context"])
            messages = c.table(
                "chat_messages", ["id", "session_id", "parent_message_id", "role", "content", "meta", "created_at"]
            )
            text = "Could you explain the idea of this lesson once more, with a short example? " * 3

            def chat(uid: int, length: int) -> int:
                sid = c.new_id("chat_sessions")
                sessions.add(sid, uid, json.dumps({"title": "Bench chat"}))
                previous: int | None = None  # one path; the session's active leaf stays NULL: its newest message
                for k in range(length):
                    role = "USER" if k % 2 == 0 else "ASSISTANT"
                    message_id = c.new_id("chat_messages")
                    at = now - timedelta(seconds=length - k)
                    messages.add(message_id, sid, previous, role, text, "{}", at)
                    previous = message_id
                return sid

            # The streams: one session per student, so no per-session turn lock is shared.
            data.chats["streams"] = [chat(students[i % len(students)], 10) for i in range(plan.chat_sessions)]
            for length in plan.chat_lengths:
                data.chat_lengths[length] = chat(students[-1], length)
            await c.flush_all()
            await c.sync_sequences()
            data.rows = c.stats.rows
            session = AsyncSession(bind=conn, join_transaction_mode="create_savepoint")
            await install_builtin_prompts(session)
            await _composed_prompts(session)
            # The course index of EVERY course, as `twosigma index rebuild` builds it (the COPY above went around the
            # service): a course left out would be indexed by the servers' background backfill while the scenarios
            # run, and the bench would measure that work instead of the steady state.
            all_courses = (await session.execute(sql_text("SELECT id FROM courses ORDER BY id"))).scalars().all()
            for course_id in all_courses:
                await indexing.rebuild_course(session, course_id, batch=1000)
            created = await create_key(session, settings, "bench", admin)
            data.api_public, data.api_secret = created.key.public_key, created.secret_key
            await session.commit()
            await session.close()
        async with engine.connect() as conn:
            await conn.exec_driver_sql("ANALYZE")
            await conn.commit()
            version = (await conn.exec_driver_sql("SHOW server_version")).scalar()
            data.pg_version = str(version)
    finally:
        await engine.dispose()
    data.seconds = time.perf_counter() - started
    return data


async def _composed_prompts(session: AsyncSession) -> None:
    """Root (level 0) → level 1 → … → level 4: the deepest composition the spec allows."""
    actor = Actor(created_by="bench", audit="bench", may_move_protected=True)
    names = [f"bench/level-{n}" for n in range(4, 0, -1)]
    previous: str | None = None
    for name in names:
        tail = f"\n@@@langfusePrompt:name={previous}|label=production@@@" if previous else ""
        body = {"name": name, "type": "text", "labels": ["production"], "prompt": f"{name}: be precise.{tail}"}
        await create_prompt(session, actor, PromptCreate.model_validate(body))
        previous = name
    body = {
        "name": PROMPT_ROOT,
        "type": "text",
        "labels": ["production"],
        "tags": ["bench"],
        "config": {"temperature": 0.2},
        "prompt": f"You tutor {{{{student_name}}}}.\n@@@langfusePrompt:name={previous}|label=production@@@",
    }
    await create_prompt(session, actor, PromptCreate.model_validate(body))
