"""The course index follows every content write in the same transaction: published items only, in bounded chunks,
as a student reads them (no answer keys), tokenized with the course's text-search configuration."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fakes.embeddings import FakeEmbeddings
from tests.fixtures.content import make_module
from tests.fixtures.quiz_content import SECRET_VALUES, make_quiz_type, quiz
from tests.fixtures.tutor import API
from tests.retrieval.conftest import Course, chunks_of
from twosigma.retrieval.models import MAX_CHUNK_CHARS, EmbeddingJob, RetrievalChunk
from twosigma.retrieval.services import indexing


async def matches(db: AsyncSession, course_id: int, words: str, config: str = "simple") -> list[int]:
    rows = await db.execute(
        text(
            "SELECT DISTINCT content_item_id FROM retrieval_chunks "
            "WHERE course_id = :c AND tsv @@ plainto_tsquery(CAST(:cfg AS regconfig), :q) ORDER BY 1"
        ),
        {"c": course_id, "q": words, "cfg": config},
    )
    return [row.content_item_id for row in rows]


class TestContentWrites:
    async def test_a_created_item_is_searchable_at_once_with_its_title_objectives_and_body(
        self, db: AsyncSession, course: Course
    ) -> None:
        item = await course.add(
            "Photosynthesis", "Chlorophyll absorbs light.", learning_objectives=["Explain the Calvin cycle"]
        )
        [chunk] = await chunks_of(db, item)
        assert chunk.title == "Photosynthesis"
        assert "Chlorophyll absorbs light." in chunk.body
        assert "Calvin cycle" in chunk.body
        assert chunk.module_id == course.module.id
        assert await matches(db, course.classroom.course.id, "chlorophyll") == [item]
        assert await matches(db, course.classroom.course.id, "photosynthesis") == [item]

    async def test_an_edit_replaces_the_chunks(self, db: AsyncSession, course: Course) -> None:
        item = await course.add("Cells", "Mitochondria make energy.")
        response = await course.client.patch(
            f"{API}/content-items/{item}",
            json={"data_json": {"body": "Ribosomes build proteins."}},
            headers=course.editor,
        )
        assert response.status_code == 200, response.text
        assert await matches(db, course.classroom.course.id, "mitochondria") == []
        assert await matches(db, course.classroom.course.id, "ribosomes") == [item]

    async def test_unpublishing_the_module_removes_its_items_at_once_and_publishing_brings_them_back(
        self, db: AsyncSession, course: Course
    ) -> None:
        inner = await make_module(db, parent=course.module, title="Inner")
        item = await course.add("Tides", "The moon pulls the oceans.", module=inner)
        assert len(await chunks_of(db, item)) == 1
        # Unpublishing an ancestor unpublishes everything below it.
        response = await course.client.patch(
            f"{API}/modules/{course.module.id}", json={"is_published": False}, headers=course.editor
        )
        assert response.status_code == 200, response.text
        assert await chunks_of(db, item) == []
        response = await course.client.patch(
            f"{API}/modules/{course.module.id}", json={"is_published": True}, headers=course.editor
        )
        assert response.status_code == 200, response.text
        assert len(await chunks_of(db, item)) == 1

    async def test_an_item_created_in_an_unpublished_module_is_not_indexed(
        self, db: AsyncSession, course: Course
    ) -> None:
        hidden = await make_module(db, parent=course.module, title="Drafts", is_published=False)
        item = await course.add("Draft", "Not ready yet.", module=hidden)
        assert await chunks_of(db, item) == []

    async def test_moving_an_item_into_an_unpublished_module_removes_it(self, db: AsyncSession, course: Course) -> None:
        hidden = await make_module(db, parent=course.module, title="Drafts", is_published=False)
        item = await course.add("Movable", "Moves around.")
        response = await course.client.post(
            f"{API}/content-items/{item}/move",
            json={"module_id": hidden.id, "sequence_index": 0},
            headers=course.editor,
        )
        assert response.status_code == 200, response.text
        assert await chunks_of(db, item) == []

    async def test_an_edit_that_leaves_the_text_alone_keeps_the_chunks_and_a_move_carries_them(
        self, db: AsyncSession, course: Course
    ) -> None:
        item = await course.add("Stable", "Unchanged text.")
        [before] = await chunks_of(db, item)
        response = await course.client.patch(
            f"{API}/content-items/{item}", json={"estimated_duration_seconds": 60}, headers=course.editor
        )
        assert response.status_code == 200, response.text
        other = await make_module(db, parent=course.module, title="Other")
        response = await course.client.post(
            f"{API}/content-items/{item}/move", json={"module_id": other.id, "sequence_index": 0}, headers=course.editor
        )
        assert response.status_code == 200, response.text
        [after] = await chunks_of(db, item)
        assert after.id == before.id  # same row: its vector, if any, is kept
        assert after.module_id == other.id

    async def test_a_deleted_item_leaves_nothing_in_the_index(self, db: AsyncSession, course: Course) -> None:
        item = await course.add("Gone", "Soon deleted.")
        response = await course.client.delete(f"{API}/content-items/{item}", headers=course.editor)
        assert response.status_code == 204, response.text
        assert await chunks_of(db, item) == []

    async def test_long_text_is_cut_into_bounded_chunks_that_keep_every_word(
        self, db: AsyncSession, course: Course
    ) -> None:
        sentences = [f"Sentence number {n} talks about topic{n}." for n in range(400)]
        item = await course.add("Long reading", " ".join(sentences))
        chunks = await chunks_of(db, item)
        assert len(chunks) > 5
        assert all(len(chunk.body) <= MAX_CHUNK_CHARS for chunk in chunks)
        assert [c.chunk_index for c in chunks] == list(range(len(chunks)))
        joined = " ".join(chunk.body for chunk in chunks)
        assert all(f"topic{n}." in joined for n in range(400))

    async def test_a_quiz_is_indexed_as_its_student_view_without_any_key(
        self, db: AsyncSession, course: Course
    ) -> None:
        quiz_type = await make_quiz_type(db)
        item = await course.add("Planets quiz", "", content_type_id=quiz_type.id, data_json=quiz())
        body = " ".join(chunk.body for chunk in await chunks_of(db, item))
        assert "Which planet is largest?" in body
        assert "Jupiter" in body  # a choice, which students read
        for secret in SECRET_VALUES:
            assert secret not in body

    async def test_a_content_write_never_calls_the_embedding_provider_but_queues_a_job(
        self, db: AsyncSession, course: Course, embeddings: FakeEmbeddings
    ) -> None:
        item = await course.add("Queued", "Embedded later by the worker.")
        await course.add("Queued too", "Also later.")
        assert embeddings.requests == []
        jobs = await db.scalar(
            select(func.count()).where(EmbeddingJob.content_item_id == item, EmbeddingJob.status == "PENDING")
        )
        assert jobs == 1


class TestTextSearchConfig:
    async def test_staff_set_english_and_the_course_is_tokenized_again_with_stemming(
        self, db: AsyncSession, course: Course
    ) -> None:
        item = await course.add("Running", "The athletes were running quickly.")
        course_id = course.classroom.course.id
        assert await matches(db, course_id, "runs", "english") == []  # 'simple' keeps "running" as it is
        response = await course.client.patch(
            f"{API}/courses/{course_id}", json={"text_search_config": "english"}, headers=course.editor
        )
        assert response.status_code == 200, response.text
        assert response.json()["text_search_config"] == "english"
        assert await matches(db, course_id, "runs", "english") == [item]
        # New writes use it too.
        other = await course.add("Swimming", "She swims every morning.")
        assert await matches(db, course_id, "swimming", "english") == [other]

    async def test_an_unknown_configuration_is_422_and_changes_nothing(
        self, db: AsyncSession, course: Course, client: httpx.AsyncClient
    ) -> None:
        course_id = course.classroom.course.id
        response = await client.patch(
            f"{API}/courses/{course_id}", json={"text_search_config": "klingon"}, headers=course.editor
        )
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == "unknown_text_search_config"
        response = await client.get(f"{API}/courses/{course_id}", headers=course.editor)
        assert response.json()["text_search_config"] == "simple"


class TestRebuild:
    async def test_rebuilding_a_course_indexes_items_written_around_the_service_and_drops_stale_ones(
        self, db: AsyncSession, course: Course
    ) -> None:
        from tests.fixtures.content import make_content_item

        kept = await course.add("Kept", "Stays indexed.")
        raw = await make_content_item(db, module=course.module, title="Seeded", data_json={"body": "seeded directly"})
        assert await chunks_of(db, raw.id) == []
        seen: list[tuple[int, int]] = []
        written = await indexing.rebuild_course(
            db, course.classroom.course.id, progress=lambda done, total: seen.append((done, total))
        )
        assert written == 1  # the kept item's text did not change: its chunk (and vector) stays
        assert len(await chunks_of(db, raw.id)) == 1
        assert len(await chunks_of(db, kept)) == 1
        assert seen[-1] == (2, 2)
        total = await db.scalar(select(func.count()).where(RetrievalChunk.course_id == course.classroom.course.id))
        assert total == 2
