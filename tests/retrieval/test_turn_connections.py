"""A tutor turn embeds its query while holding no database connection: the fake embeddings server looks at the
app's real connection pool (a scratch database of its own, so nothing else checks connections out) at the moment
the query's embedding is asked for."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from tests.fakes import FakeAnthropic
from tests.fakes.embeddings import FakeEmbeddings
from tests.fakes.http import FakeResponse, RecordedRequest
from tests.reliability.scratch import scratch_database
from tests.retrieval.conftest import make_indexed_course
from twosigma.app import build_state
from twosigma.config import Settings
from twosigma.db.engine import Database
from twosigma.kit.state import install_state
from twosigma.retrieval import repository


@pytest.fixture
async def scratch(server_url: str, settings: Settings) -> AsyncIterator[Database]:
    async with scratch_database(server_url, settings) as url:
        database = Database.from_url(url, settings)
        try:
            yield database
        finally:
            await database.dispose()


async def test_the_query_is_embedded_while_the_turn_holds_no_connection(
    shared_app: FastAPI,
    settings: Settings,
    scratch: Database,
    anthropic: FakeAnthropic,
    embeddings: FakeEmbeddings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with scratch.sessionmaker() as session:
        if not await repository.vector_storage(session):
            pytest.skip("this PostgreSQL has no `vector` extension: no query is embedded")
    state = build_state(settings, scratch)
    install_state(shared_app, state)
    seen: list[tuple[str, int]] = []
    respond = embeddings.respond

    def observe(request: RecordedRequest) -> FakeResponse:
        payload = request.json()
        texts = [payload["input"]] if isinstance(payload["input"], str) else payload["input"]
        seen.extend((text, scratch.engine.pool.checkedout()) for text in texts)  # type: ignore[attr-defined]
        return respond(request)

    monkeypatch.setattr(embeddings, "respond", observe)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=shared_app), base_url="http://test") as client:
            async with scratch.sessionmaker() as session:
                course = await make_indexed_course(session, client, settings)
                await session.commit()
            await course.add("Magma", "Molten magma rises under the crust.")
            chat = await course.open_chat(None)
            reply = await course.ask(chat, "magma crust")
    finally:
        await state.llm_providers.aclose()
    query = [checked_out for text, checked_out in seen if text == "magma crust"]
    assert query == [0], seen  # asked once, with no connection of the pool in use
    assert reply["meta"]["citations"][0]["title"] == "Magma"
