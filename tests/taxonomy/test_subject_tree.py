from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from tests.fixtures.taxonomy import make_domain, make_subject
from twosigma.taxonomy.models import Domain


@contextmanager
def count_statements(engine: AsyncEngine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def _wide_tree(db: AsyncSession, domain: Domain, size: int) -> None:
    """`size` subjects over three levels."""
    roots = [await make_subject(db, domain=domain) for _ in range(max(1, size // 5))]
    made = len(roots)
    while made < size:
        parent = roots[made % len(roots)]
        child = await make_subject(db, parent=parent)
        made += 1
        if made < size:
            await make_subject(db, parent=child)
            made += 1


class TestSubjectTree:
    async def test_a_three_level_tree_is_nested_in_name_order(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        domain = await make_domain(db)
        science = await make_subject(db, domain=domain, name="Science")
        arts = await make_subject(db, domain=domain, name="Arts")
        physics = await make_subject(db, parent=science, name="Physics")
        biology = await make_subject(db, parent=science, name="Biology")
        optics = await make_subject(db, parent=physics, name="Optics")
        mechanics = await make_subject(db, parent=physics, name="Mechanics")

        response = await client.get("/api/v1/subjects/tree", params={"domain_id": domain.id})

        assert response.status_code == 200

        def node(s: Any, children: list[dict[str, Any]]) -> dict[str, Any]:
            return {
                "id": s.id,
                "name": s.name,
                "domain_id": domain.id,
                "parent_subject_id": s.parent_subject_id,
                "children": children,
            }

        assert response.json() == [
            node(arts, []),
            node(science, [node(biology, []), node(physics, [node(mechanics, []), node(optics, [])])]),
        ]

    async def test_the_domain_filter_leaves_other_domains_out(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        domain = await make_domain(db)
        mine = await make_subject(db, domain=domain)
        await make_subject(db)
        body = (await client.get("/api/v1/subjects/tree", params={"domain_id": domain.id})).json()
        assert [n["id"] for n in body] == [mine.id]

    async def test_without_a_filter_every_domain_is_included(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        first, second = await make_subject(db), await make_subject(db)
        body = (await client.get("/api/v1/subjects/tree")).json()
        assert {first.id, second.id} <= {n["id"] for n in body}

    async def test_an_unknown_domain_gives_an_empty_tree(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/subjects/tree", params={"domain_id": 999999})
        assert response.status_code == 200
        assert response.json() == []

    async def test_a_malformed_domain_filter_is_422(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/subjects/tree", params={"domain_id": "x"})
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "validation_error"

    async def test_the_query_count_does_not_grow_with_the_tree(
        self, client: httpx.AsyncClient, db: AsyncSession, db_engine: AsyncEngine
    ) -> None:
        small, large = await make_domain(db), await make_domain(db)
        await _wide_tree(db, small, 5)
        await _wide_tree(db, large, 50)

        counts = []
        for domain, size in ((small, 5), (large, 50)):
            with count_statements(db_engine) as statements:
                response = await client.get("/api/v1/subjects/tree", params={"domain_id": domain.id})
            assert response.status_code == 200

            def total(nodes: list[dict[str, Any]]) -> int:
                return sum(1 + total(n["children"]) for n in nodes)

            assert total(response.json()) == size
            counts.append(len(statements))
            assert sum("FROM subjects" in s for s in statements) == 1

        assert counts[0] == counts[1]
