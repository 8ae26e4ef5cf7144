"""`seed(engine_or_connection, size)`: the demo data set, deterministic for a given seed (dates are relative to
the day it runs), written in one transaction with COPY. A second run finds the marker and writes nothing."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime

import anyio
import bcrypt
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from twosigma.demo.activity import seed_activity, seed_feedback_and_streaks
from twosigma.demo.catalog import QUIZ_PROMPT, seed_catalog
from twosigma.demo.copy import Copier, QuietReporter, Reporter, Stats
from twosigma.demo.people import seed_tenants_and_taxonomy, seed_users
from twosigma.demo.sizes import SIZES, Size
from twosigma.demo.world import ADMIN_EMAIL, DEMO_PASSWORD, MARKER_KEY, STUDENT_EMAIL, World
from twosigma.prompts.schemas import PromptCreate
from twosigma.prompts.services.changes import Actor, create_prompt
from twosigma.retrieval.services import indexing
from twosigma.taxonomy.builtin_types import install_builtin_content_types
from twosigma.tutor.builtin_prompts import install_builtin_prompts

# Every table written with COPY; each is locked (EXCLUSIVE: others may read, not write) while ids are assigned.
TABLES = [
    "countries", "universities", "departments", "domains", "subjects", "content_types", "users", "user_profiles",
    "user_subject_preferences", "user_university_roles", "courses", "course_subjects", "course_prerequisites",
    "course_offerings", "modules", "content_items", "course_enrollments", "user_content_progress",
    "user_module_progress", "chat_sessions", "chat_messages", "chat_notes", "feature_requests",
]  # fmt: skip
TONE_GUIDE = "Demo Tone Guide"
LAB_ASSISTANT = "Demo Lab Assistant"


@dataclass
class SeedResult:
    already_seeded: bool
    size: str
    seed: int
    marker: dict[str, object]
    stats: Stats
    admin_email: str = ADMIN_EMAIL
    student_email: str = STUDENT_EMAIL
    password: str = DEMO_PASSWORD


async def read_marker(conn: AsyncConnection) -> dict[str, object] | None:
    value = await conn.scalar(
        text("SELECT setting_value FROM system_settings WHERE setting_key = :key"), {"key": MARKER_KEY}
    )
    if value is None:
        return None
    try:
        marker = json.loads(value)
    except ValueError:
        marker = {}
    return marker if isinstance(marker, dict) else {}


async def _seed_prompts(conn: AsyncConnection, w: World) -> None:
    """A few prompts through the prompts service (composition checks, labels, events): the tutor's built-in one,
    a small text prompt referenced by two others, and a second version on `staging`."""
    w.copier.start_phase("prompts", 5)
    actor = Actor(created_by=str(w.admin_id), audit=ADMIN_EMAIL, may_move_protected=True)
    session = AsyncSession(bind=conn, join_transaction_mode="create_savepoint")
    try:
        await install_builtin_prompts(session)
        bodies = [
            {"name": TONE_GUIDE, "type": "text", "labels": ["production"], "tags": ["demo", "style"],
             "prompt": "Be warm, concise and encouraging. Ask one question at a time. Write for a {{study_level}} "
                       "student and answer in the language of the locale {{locale}}."},
            {"name": TONE_GUIDE, "type": "text", "labels": ["staging"],
             "prompt": "Be warm and concise. Prefer questions to answers; celebrate progress. Level: {{study_level}}; "
                       "locale: {{locale}}.", "commitMessage": "Shorter, with praise for progress"},
            {"name": QUIZ_PROMPT, "type": "text", "labels": ["production"], "tags": ["demo", "quiz"],
             "config": {"temperature": 0.3, "max_tokens": 600},
             "prompt": f"@@@langfusePrompt:name={TONE_GUIDE}|label=production@@@\n\nYou coach {{{{student_name}}}} "
                       "through the quiz \"{{content_title}}\" of {{course_title}}. Never reveal which choice is "
                       "correct; ask what they would rule out first.\n\nQuiz:\n{{content_data}}"},
            {"name": LAB_ASSISTANT, "type": "chat", "labels": ["production"], "tags": ["demo", "lab"],
             "prompt": [
                 {"role": "system", "content": f"@@@langfusePrompt:name={TONE_GUIDE}|version=1@@@\nYou help "
                  "{{student_name}} with the lab \"{{content_title}}\". Objectives:\n{{learning_objectives}}"},
                 {"type": "placeholder", "name": "history"},
             ]},
        ]  # fmt: skip
        w.copier.reporter.advance()
        for body in bodies:
            await create_prompt(session, actor, PromptCreate.model_validate(body))
            w.copier.reporter.advance()
        await session.commit()  # releases the session's SAVEPOINT; the seed's transaction commits (or not) later
    finally:
        await session.close()
    await w.copier.end_phase()


async def _index_courses(conn: AsyncConnection) -> None:
    """The course index of every seeded course, as `twosigma index rebuild` builds it (the COPY went around the
    content service, which keeps it current on every later write)."""
    session = AsyncSession(bind=conn, join_transaction_mode="create_savepoint")
    try:
        for course_id in await indexing.all_course_ids(session):
            await indexing.rebuild_course(session, course_id, batch=1000)
        await session.commit()  # releases the session's SAVEPOINT; the seed's transaction commits (or not) later
    finally:
        await session.close()


async def _install_builtin_types(conn: AsyncConnection) -> None:
    """The built-in content types, as `twosigma serve` installs them: the demo's quizzes are items of the gradable
    `quiz` type (an existing non-gradable `quiz` is marked gradable, as on a server's start)."""
    session = AsyncSession(bind=conn, join_transaction_mode="create_savepoint")
    try:
        await install_builtin_content_types(session)
        await session.commit()  # releases the session's SAVEPOINT; the seed's transaction commits (or not) later
    finally:
        await session.close()


async def _skip_fk_triggers_if_allowed(conn: AsyncConnection) -> bool:
    """Foreign-key checks run as a trigger per COPY'd row, the bulk of a seed's cost. The generator
    assigns every id itself (and the tests check there are no orphans), so when the role may (superuser, e.g. the
    embedded server) the seed's transaction skips them; otherwise they run as usual."""
    if not await conn.scalar(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")):
        return False
    await conn.execute(text("SET LOCAL session_replication_role = replica"))
    return True


async def _hash_password(rounds: int) -> str:
    def run() -> str:
        return bcrypt.hashpw(DEMO_PASSWORD.encode(), bcrypt.gensalt(rounds=rounds)).decode()

    return await anyio.to_thread.run_sync(run)


async def _seed_on(
    conn: AsyncConnection, size: Size, seed_value: int, reporter: Reporter, bcrypt_rounds: int
) -> SeedResult:
    await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('twosigma.demo.seed'))"))
    # The app's per-statement timeout guards requests; a large seed's COPY chunks and final UPDATE may take longer.
    await conn.execute(text("SET LOCAL statement_timeout = 0"))
    await _skip_fk_triggers_if_allowed(conn)
    marker = await read_marker(conn)
    if marker is not None:
        return SeedResult(True, str(marker.get("size", "?")), int(str(marker.get("seed", 0))), marker, Stats())
    await conn.execute(text(f"LOCK TABLE {', '.join(TABLES)} IN EXCLUSIVE MODE"))
    await _install_builtin_types(conn)  # before ids are reserved: the rows it may add are already counted
    raw = await conn.get_raw_connection()
    copier = Copier(raw.driver_connection, reporter)
    await copier.reserve_ids(TABLES)
    now = datetime.now(UTC)
    world = World(seed_value, SIZES[size], random.Random(seed_value), copier, now, await _hash_password(bcrypt_rounds))

    await seed_tenants_and_taxonomy(world)
    await seed_users(world)
    await seed_catalog(world)
    await _seed_prompts(conn, world)
    await seed_activity(world)
    await seed_feedback_and_streaks(world)
    await copier.sync_sequences()
    await _index_courses(conn)

    marker = {"size": size.value, "seed": seed_value, "at": now.isoformat(), "rows": copier.stats.rows}
    await conn.execute(
        text(
            "INSERT INTO system_settings (setting_key, setting_value, is_encrypted, description) "
            "VALUES (:key, :value, false, :description)"
        ),
        {
            "key": MARKER_KEY,
            "value": json.dumps(marker),
            "description": "Written by `twosigma demo seed`; a second run sees it and does nothing.",
        },
    )
    return SeedResult(False, size.value, seed_value, marker, copier.stats)


async def seed(
    target: AsyncEngine | AsyncConnection,
    size: Size | str = Size.SMALL,
    *,
    seed_value: int = 42,
    reporter: Reporter | None = None,
    bcrypt_rounds: int = 12,
) -> SeedResult:
    """Seed the demo data set. With an engine: one transaction, committed here. With a connection: inside the
    caller's transaction (the caller commits). Every demo user's password is `DEMO_PASSWORD`, hashed once."""
    size = Size(size)
    reporter = reporter or QuietReporter()
    if isinstance(target, AsyncConnection):
        return await _seed_on(target, size, seed_value, reporter, bcrypt_rounds)
    async with target.begin() as conn:
        return await _seed_on(conn, size, seed_value, reporter, bcrypt_rounds)
