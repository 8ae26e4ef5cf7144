"""`twosigma demo seed`: a small data set on a scratch database that every endpoint family can read, written once."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from tests.fixtures.database import create_scratch_database, drop_database
from tests.fixtures.quiz_content import key_names
from twosigma.app import create_app
from twosigma.assessments.quiz import parse_quiz
from twosigma.cli import app as cli_app
from twosigma.config import Settings, get_settings
from twosigma.db import migrate
from twosigma.db.engine import Database, make_engine
from twosigma.demo.seed import SeedResult, seed
from twosigma.demo.vocab import COURSE_PREFIXES, DEPARTMENT_SUBJECTS
from twosigma.demo.world import ADMIN_EMAIL, DEMO_PASSWORD, STUDENT_EMAIL

API = "/api/v1"


@dataclass
class Seeded:
    engine: AsyncEngine
    settings: Settings
    result: SeedResult


@pytest.fixture(scope="module")
async def seeded(server_url: str, settings: Settings) -> AsyncIterator[Seeded]:
    url = await create_scratch_database(server_url)
    seeded_settings = settings.model_copy(update={"database_url": url})
    engine = make_engine(url, seeded_settings)
    try:
        await migrate.upgrade(engine)
        result = await seed(engine, "small", bcrypt_rounds=4)
        yield Seeded(engine, seeded_settings, result)
    finally:
        await engine.dispose()
        await drop_database(url)


@pytest.fixture(scope="module")
async def api(seeded: Seeded) -> AsyncIterator[httpx.AsyncClient]:
    database = Database.from_url(str(seeded.settings.database_url), seeded.settings)
    transport = httpx.ASGITransport(app=create_app(settings=seeded.settings, database=database))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client
    finally:
        await database.dispose()


async def login(api: httpx.AsyncClient, email: str) -> dict[str, str]:
    response = await api.post(f"{API}/auth/login", json={"email": email, "password": DEMO_PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture(scope="module")
async def admin(api: httpx.AsyncClient) -> dict[str, str]:
    return await login(api, ADMIN_EMAIL)


@pytest.fixture(scope="module")
async def student(api: httpx.AsyncClient) -> dict[str, str]:
    return await login(api, STUDENT_EMAIL)


async def scalar(seeded: Seeded, sql: str) -> object:
    async with seeded.engine.connect() as conn:
        return await conn.scalar(text(sql))


async def get_ok(api: httpx.AsyncClient, path: str, headers: dict[str, str]) -> dict[str, Any]:
    response = await api.get(f"{API}{path}", headers=headers)
    assert response.status_code == 200, f"{path}: {response.text}"
    body = response.json()
    return body


class TestSmallDataSet:
    async def test_it_covers_every_role_status_visibility_and_content_type(self, seeded: Seeded) -> None:
        for sql, expected in [
            ("SELECT count(DISTINCT role) FROM user_university_roles", 6),
            ("SELECT count(DISTINCT status) FROM course_enrollments", 5),
            ("SELECT count(DISTINCT visibility) FROM course_offerings", 3),
            ("SELECT count(DISTINCT content_type_id) FROM content_items", 6),
            ("SELECT count(DISTINCT country_id) FROM universities", 2),
        ]:
            assert await scalar(seeded, sql) == expected, sql
        assert await scalar(seeded, "SELECT max(depth) FROM modules") == 4
        assert await scalar(seeded, "SELECT count(*) FROM course_offerings WHERE invite_code IS NOT NULL") != 0
        assert await scalar(seeded, "SELECT count(*) FROM course_offerings WHERE capacity IS NOT NULL") != 0

    async def test_it_has_the_advertised_size(self, seeded: Seeded) -> None:
        tables = seeded.result.stats.tables
        assert tables["universities"] == 2
        assert tables["courses"] == 10
        assert tables["users"] == 201
        assert 400 <= tables["content_items"] <= 700
        assert tables["user_content_progress"] > 1000
        assert tables["chat_messages"] > 100

    async def test_sibling_order_is_contiguous_everywhere(self, seeded: Seeded) -> None:
        gaps = """
            SELECT count(*) FROM (
                SELECT count(*) AS n, min(sequence_index) AS lo, max(sequence_index) AS hi,
                       count(DISTINCT sequence_index) AS distinct_n
                FROM {table} WHERE {parent} IS NOT NULL GROUP BY {parent}
            ) AS s WHERE lo <> 0 OR hi <> n - 1 OR distinct_n <> n
        """
        assert await scalar(seeded, gaps.format(table="modules", parent="parent_module_id")) == 0
        assert await scalar(seeded, gaps.format(table="content_items", parent="module_id")) == 0
        depth_errors = """
            SELECT count(*) FROM modules AS m JOIN modules AS p ON p.id = m.parent_module_id
            WHERE m.depth <> p.depth + 1 OR m.course_id <> p.course_id
        """
        assert await scalar(seeded, depth_errors) == 0

    async def test_stored_module_progress_follows_the_roll_up_rule(self, seeded: Seeded) -> None:
        """Every stored module percent equals floor(mean over its published subtree's items, missing = 0)."""
        mismatches = """
            WITH RECURSIVE sub(ancestor, module_id) AS (
                SELECT id, id FROM modules WHERE is_published
                UNION ALL
                SELECT sub.ancestor, m.id FROM sub JOIN modules AS m ON m.parent_module_id = sub.module_id
                WHERE m.is_published
            ), live AS (
                SELECT ump.id, ump.progress_percent AS stored,
                       (sum(coalesce(ucp.progress_percent, 0)) / count(ci.id))::int AS computed
                FROM user_module_progress AS ump
                JOIN sub ON sub.ancestor = ump.module_id
                JOIN content_items AS ci ON ci.module_id = sub.module_id
                LEFT JOIN user_content_progress AS ucp ON ucp.content_item_id = ci.id
                     AND ucp.user_id = ump.user_id AND ucp.course_offering_id = ump.course_offering_id
                GROUP BY ump.id, ump.progress_percent
            )
            SELECT count(*) FROM live WHERE stored <> computed
        """
        assert await scalar(seeded, mismatches) == 0
        completed_below_100 = """
            SELECT count(*) FROM course_enrollments AS e
            JOIN course_offerings AS o ON o.id = e.course_offering_id
            JOIN modules AS r ON r.course_id = o.course_id AND r.parent_module_id IS NULL
            LEFT JOIN user_module_progress AS p
                 ON p.user_id = e.user_id AND p.course_offering_id = e.course_offering_id AND p.module_id = r.id
            WHERE e.status = 'COMPLETED' AND coalesce(p.progress_percent, 0) <> 100
        """
        assert await scalar(seeded, completed_below_100) == 0

    async def test_sequences_continue_after_the_seeded_ids(self, seeded: Seeded) -> None:
        assert await scalar(seeded, "SELECT last_value FROM users_id_seq") == await scalar(
            seeded, "SELECT max(id) FROM users"
        )


A_BEFORE_A_VOWEL = re.compile(r"\b[Aa] [aeiouAEIOU]")
X_OF_X = re.compile(r"^(.+) of \1\.?$")


class TestTheTextReadsRight:
    """The shapes a first reader noticed: "a introductory course", "X of X.", an "Introduction to Python" in a physics
    department, the same learning objective twice on one item, an "Introduction to" an expert course."""

    async def rows(self, seeded: Seeded, sql: str) -> list[Any]:
        async with seeded.engine.connect() as conn:
            return list((await conn.execute(text(sql))).all())

    async def test_titles_and_descriptions_have_no_broken_article_and_no_x_of_x(self, seeded: Seeded) -> None:
        texts = await self.rows(
            seeded,
            "SELECT title, description FROM courses UNION ALL SELECT title, description FROM modules "
            "UNION ALL SELECT title, description FROM content_items",
        )
        assert len(texts) > 100
        for title, description in texts:
            for value in (title, description or ""):
                assert not A_BEFORE_A_VOWEL.search(value), value
                assert not X_OF_X.match(value), value
            assert description is None or title + " of " + title not in description, description

    async def test_each_course_teaches_a_subject_of_its_department(self, seeded: Seeded) -> None:
        rows = await self.rows(
            seeded,
            "SELECT c.title, d.code, parent.name FROM courses c JOIN departments d ON d.id = c.department_id "
            "JOIN subjects s ON s.id = c.primary_subject_id JOIN subjects parent ON parent.id = s.parent_subject_id",
        )
        assert rows
        for title, code, parent in rows:
            assert parent in DEPARTMENT_SUBJECTS[code], (title, code, parent)
        extra = await self.rows(
            seeded,
            "SELECT c.title, d.code, parent.name FROM course_subjects cs JOIN courses c ON c.id = cs.course_id "
            "JOIN departments d ON d.id = c.department_id JOIN subjects s ON s.id = cs.subject_id "
            "JOIN subjects parent ON parent.id = s.parent_subject_id",
        )
        for title, code, parent in extra:
            assert parent in DEPARTMENT_SUBJECTS[code], (title, code, parent)

    async def test_a_title_prefix_fits_the_courses_level(self, seeded: Seeded) -> None:
        for title, level in await self.rows(seeded, "SELECT title, level FROM courses"):
            assert any(title.startswith(prefix + " ") for prefix in COURSE_PREFIXES[level]), (title, level)

    async def test_no_item_repeats_a_learning_objective(self, seeded: Seeded) -> None:
        rows = await self.rows(seeded, "SELECT id, learning_objectives FROM content_items")
        assert rows
        for item_id, objectives in rows:
            assert len(objectives) == len(set(objectives)), (item_id, objectives)


class TestQuizzes:
    async def test_quizzes_are_items_of_the_gradable_built_in_type_and_every_one_parses(self, seeded: Seeded) -> None:
        async with seeded.engine.connect() as conn:
            types = (await conn.execute(text("SELECT name, gradable FROM content_types"))).mappings().all()
            rows = await conn.execute(
                text(
                    "SELECT ci.data_json FROM content_items AS ci JOIN content_types AS t ON t.id = ci.content_type_id "
                    "WHERE t.name = 'quiz'"
                )
            )
            quizzes = [row.data_json for row in rows]
        assert {row["name"] for row in types if row["gradable"]} == {"quiz"}
        assert quizzes
        kinds = {question.type for data in quizzes for question in parse_quiz(data).questions}
        assert kinds == {"single_choice", "multiple_choice", "numeric", "short_text"}

    async def test_no_chat_snapshot_holds_an_answer_key(self, seeded: Seeded) -> None:
        async with seeded.engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "SELECT content_context FROM chat_sessions "
                    "WHERE content_context -> 'content_item' ->> 'content_type' = 'quiz'"
                )
            )
            contexts = [row.content_context for row in rows]
        assert contexts
        for context in contexts:
            assert context["content_item"]["gradable"] is True
            assert not key_names(context), context


class TestEveryEndpointFamilyHasData:
    async def test_catalog_tree_and_offerings(
        self, api: httpx.AsyncClient, admin: dict[str, str], student: dict[str, str]
    ) -> None:
        courses = await get_ok(api, "/courses", student)
        assert courses["total"] > 0
        course_id = courses["items"][0]["id"]
        tree = await get_ok(api, f"/courses/{course_id}/tree", admin)
        assert tree["root"]["children"]
        offerings = await get_ok(api, f"/courses/{course_id}/offerings", admin)
        assert offerings["total"] > 0

    async def test_the_demo_students_enrolments_progress_and_chats(
        self, api: httpx.AsyncClient, student: dict[str, str]
    ) -> None:
        enrolments = await get_ok(api, "/users/me/enrollments", student)
        active = [e for e in enrolments["items"] if e["status"] == "ACTIVE"]
        assert active
        offering_id = active[0]["course_offering_id"]
        progress = await get_ok(api, f"/offerings/{offering_id}/progress/me", student)
        assert progress["progress_percent"] > 0
        sessions = await get_ok(api, "/chat/sessions", student)
        assert sessions["total"] > 0
        messages = await get_ok(api, f"/chat/sessions/{sessions['items'][0]['id']}/messages", student)
        roles = [m["role"] for m in messages["items"]]
        assert "USER" in roles
        assert "ASSISTANT" in roles
        # Each seeded conversation is one path (no branches): every message is its parent's only child.
        assert all(m["sibling_ids"] == [m["id"]] for m in messages["items"])
        assert messages["items"][-1]["parent_message_id"] is None or messages["next_before"] is not None

    async def test_prompts_with_composition(self, api: httpx.AsyncClient, admin: dict[str, str]) -> None:
        prompts = await get_ok(api, "/prompts", admin)
        assert prompts["total"] >= 4
        resolved = await get_ok(api, "/prompts/Demo Quiz Coach", admin)
        assert "@@@langfusePrompt" not in resolved["prompt"]
        assert "Be warm" in resolved["prompt"]

    async def test_analytics_and_feature_requests(self, api: httpx.AsyncClient, admin: dict[str, str]) -> None:
        overview = await get_ok(api, "/admin/analytics/overview", admin)
        assert overview["users"]["total"] >= 201
        assert overview["users"]["active_30d"] > 0
        assert overview["chat"]["messages"] > 0
        assert overview["tokens_by_model_30d"]
        assert overview["top_courses"]
        assert overview["mean_course_progress"] > 0
        requests = await get_ok(api, "/feature-requests", admin)
        assert requests["total"] > 0

    async def test_universities_subjects_and_content_types(
        self, api: httpx.AsyncClient, student: dict[str, str]
    ) -> None:
        for path in ("/universities", "/subjects", "/content-types"):
            body = await get_ok(api, path, student)
            assert body["total"] > 0, path


class TestRerun:
    async def test_a_second_seed_finds_the_marker_and_writes_nothing(self, seeded: Seeded) -> None:
        users = await scalar(seeded, "SELECT count(*) FROM users")
        again = await seed(seeded.engine, "small", bcrypt_rounds=4)
        assert again.already_seeded
        assert again.size == "small"
        assert await scalar(seeded, "SELECT count(*) FROM users") == users


@pytest.fixture
def scratch_url(server_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = asyncio.run(create_scratch_database(server_url))
    monkeypatch.setenv("TWOSIGMA_DATABASE_URL", url)
    monkeypatch.setenv("TWOSIGMA_BCRYPT_ROUNDS", "4")
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()
    asyncio.run(drop_database(url))


class TestCommand:
    def test_seed_prints_a_summary_and_credentials_then_a_rerun_says_already_seeded(self, scratch_url: str) -> None:
        runner = CliRunner()
        first = runner.invoke(cli_app, ["demo", "seed", "--size", "small"])
        assert first.exit_code == 0, first.output
        assert "rows/s" in first.output
        assert ADMIN_EMAIL in first.output
        assert DEMO_PASSWORD in first.output
        second = runner.invoke(cli_app, ["demo", "seed", "--size", "small"])
        assert second.exit_code == 0, second.output
        assert "already seeded" in second.output

    def test_an_unknown_size_is_refused(self, scratch_url: str) -> None:
        result = CliRunner().invoke(cli_app, ["demo", "seed", "--size", "huge"])
        assert result.exit_code == 2


class TestReferentialIntegrity:
    # The seed may skip FK triggers (superuser); these joins prove every reference it wrote points at a row.
    ORPHANS: ClassVar[list[tuple[str, str, str]]] = [
        ("departments", "university_id", "universities"),
        ("user_university_roles", "user_id", "users"),
        ("user_profiles", "user_id", "users"),
        ("courses", "university_id", "universities"),
        ("courses", "primary_subject_id", "subjects"),
        ("course_offerings", "course_id", "courses"),
        ("modules", "course_id", "courses"),
        ("modules", "parent_module_id", "modules"),
        ("content_items", "module_id", "modules"),
        ("content_items", "content_type_id", "content_types"),
        ("course_enrollments", "course_offering_id", "course_offerings"),
        ("course_enrollments", "user_id", "users"),
        ("user_content_progress", "content_item_id", "content_items"),
        ("user_content_progress", "course_offering_id", "course_offerings"),
        ("user_module_progress", "module_id", "modules"),
        ("chat_sessions", "content_item_id", "content_items"),
        ("chat_messages", "session_id", "chat_sessions"),
        ("chat_messages", "parent_message_id", "chat_messages"),
        ("chat_notes", "message_id", "chat_messages"),
        ("feature_requests", "user_id", "users"),
    ]

    async def test_every_reference_points_at_an_existing_row(self, seeded: Seeded) -> None:
        for table, column, target in self.ORPHANS:
            sql = (
                f"SELECT count(*) FROM {table} AS t LEFT JOIN {target} AS r ON r.id = t.{column} "
                f"WHERE t.{column} IS NOT NULL AND r.id IS NULL"
            )
            assert await scalar(seeded, sql) == 0, f"{table}.{column}"

    async def test_content_items_belong_to_their_modules_course(self, seeded: Seeded) -> None:
        sql = (
            "SELECT count(*) FROM content_items AS i JOIN modules AS m ON m.id = i.module_id "
            "WHERE i.course_id <> m.course_id"
        )
        assert await scalar(seeded, sql) == 0
