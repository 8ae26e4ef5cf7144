from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.db.session import DbSession
from twosigma.kit.pagination import Page, PageParams, Pagination, paginate


@pytest.fixture
def paged_app(fresh_app: FastAPI) -> FastAPI:
    app = fresh_app

    @app.get("/_test/numbers", response_model=Page[int])
    async def numbers(session: DbSession, params: Pagination) -> dict[str, object]:
        values = union_all(*[select(literal(i).label("n")) for i in range(1, 46)]).subquery()
        result = await paginate(session, select(values.c.n).order_by(values.c.n), params)
        return result.as_dict()

    return app


@pytest.fixture
async def client(paged_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=paged_app), base_url="http://test") as ac:
        yield ac


class TestPagination:
    async def test_first_page_has_totals(self, paged_app: FastAPI, client: httpx.AsyncClient) -> None:
        body = (await client.get("/_test/numbers")).json()
        assert body["items"] == list(range(1, 21))
        assert (body["page"], body["limit"], body["total"], body["pages"]) == (1, 20, 45, 3)

    async def test_last_page_is_partial(self, paged_app: FastAPI, client: httpx.AsyncClient) -> None:
        body = (await client.get("/_test/numbers", params={"page": 3})).json()
        assert body["items"] == list(range(41, 46))

    async def test_page_past_the_end_is_empty(self, paged_app: FastAPI, client: httpx.AsyncClient) -> None:
        body = (await client.get("/_test/numbers", params={"page": 9, "limit": 10})).json()
        assert body["items"] == []
        assert body["pages"] == 5

    @pytest.mark.parametrize("query", [{"limit": 101}, {"limit": 0}, {"page": 0}, {"page": "x"}])
    async def test_out_of_range_parameters_are_422(
        self, paged_app: FastAPI, client: httpx.AsyncClient, query: dict[str, object]
    ) -> None:
        response = await client.get("/_test/numbers", params=query)
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "validation_error"

    async def test_empty_result_has_zero_pages(self, db: AsyncSession) -> None:
        stmt = select(literal(1)).where(literal(False))
        result = await paginate(db, stmt, PageParams(page=1, limit=20))
        assert (result.total, result.pages, list(result.items)) == (0, 0, [])
