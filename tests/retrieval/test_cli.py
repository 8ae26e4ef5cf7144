"""`twosigma index rebuild [--course ID]` against a scratch database: items written around the service (the demo
seed, a restored dump) are indexed, with a progress report."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from tests.fixtures.content import make_content_item, make_module, root_of
from tests.fixtures.courses import make_campus
from tests.fixtures.database import create_scratch_database, drop_database
from tests.fixtures.taxonomy import make_content_type
from twosigma.cli import app
from twosigma.config import Settings, get_settings
from twosigma.db import migrate
from twosigma.db.bootstrap import committed_session
from twosigma.db.engine import make_engine


@pytest.fixture
def scratch_url(server_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = asyncio.run(create_scratch_database(server_url))
    monkeypatch.setenv("TWOSIGMA_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()
    asyncio.run(drop_database(url))


async def seed(url: str, settings: Settings) -> tuple[int, int]:
    """Two courses with one published item each, written straight to the tables (not indexed)."""
    engine = make_engine(url, settings)
    try:
        await migrate.upgrade(engine)
        async with committed_session(engine) as db:
            ids = []
            kind = await make_content_type(db)
            for word in ("aurora", "borealis"):
                campus = await make_campus(db)
                module = await make_module(db, parent=await root_of(db, campus.course))
                await make_content_item(db, module=module, content_type=kind, data_json={"body": f"About {word}."})
                ids.append(campus.course.id)
        return ids[0], ids[1]
    finally:
        await engine.dispose()


async def indexed_courses(url: str, settings: Settings) -> list[int]:
    engine = make_engine(url, settings)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(text("SELECT DISTINCT course_id FROM retrieval_chunks ORDER BY 1"))
            return [row.course_id for row in rows]
    finally:
        await engine.dispose()


class TestIndexRebuild:
    def test_rebuild_one_course_then_all(self, scratch_url: str, settings: Settings) -> None:
        first, second = asyncio.run(seed(scratch_url, settings))
        runner = CliRunner()
        one = runner.invoke(app, ["index", "rebuild", "--course", str(first)])
        assert one.exit_code == 0, one.output
        assert "rebuilt 1 course(s): 1 chunks indexed" in one.output
        assert asyncio.run(indexed_courses(scratch_url, settings)) == [first]
        every = runner.invoke(app, ["index", "rebuild"])
        assert every.exit_code == 0, every.output
        assert asyncio.run(indexed_courses(scratch_url, settings)) == sorted([first, second])

    def test_an_unknown_course_fails_with_a_message(self, scratch_url: str, settings: Settings) -> None:
        asyncio.run(seed(scratch_url, settings))
        result = CliRunner().invoke(app, ["index", "rebuild", "--course", "999999"])
        assert result.exit_code != 0
        assert "No course with id 999999" in result.output
