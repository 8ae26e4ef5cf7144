"""Full-text retrieval on any server (no embedding provider, with or without the `vector` extension): its cost in
statements, and what /health/ready says about the index."""

from __future__ import annotations

import httpx
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from tests.retrieval.conftest import Course
from twosigma.config import Settings
from twosigma.health.service import FULL_TEXT_ONLY
from twosigma.retrieval import repository
from twosigma.retrieval.services.search import retrieve
from twosigma.system_settings.effective import get_effective_settings

QUESTION = "Why does lava come out of volcanoes?"


class TestQueries:
    async def test_full_text_retrieval_is_one_query(self, db: AsyncSession, settings: Settings, course: Course) -> None:
        await course.add("Volcanoes", "Volcanoes come out of the ground.")
        effective = await get_effective_settings(db, settings)
        statements: list[str] = []

        def count(*args: object) -> None:
            statements.append(str(args[2]))

        engine = (await db.connection()).engine.sync_engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            found = await retrieve(db, effective, QUESTION, course_id=course.classroom.course.id, user_id=0)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert len(found.sources) == 1
        assert len(statements) == 1, statements


class TestReadiness:
    async def test_ready_says_once_when_the_index_is_full_text_only(
        self, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        body = (await client.get("/health/ready")).json()
        if await repository.vector_storage(db):
            assert "details" not in body
        else:
            assert body["details"] == {"retrieval": FULL_TEXT_ONLY}


class TestQueryText:
    def test_stop_words_go_and_the_students_words_come_before_the_previous_turns(self) -> None:
        from twosigma.retrieval.services.search import query_text

        assert query_text("What is the Calvin cycle?", ["Tell me about photosynthesis", "It happens in leaves."]) == (
            "calvin cycle photosynthesis happens leaves"
        )
        assert query_text("Why?", []) == ""
