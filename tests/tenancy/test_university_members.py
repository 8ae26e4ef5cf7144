from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from tests.fixtures.factories import auth_headers, grant_role, make_member, make_university, make_user
from tests.fixtures.tenancy import count_statements, make_campus
from twosigma.config import Settings
from twosigma.enums import UserRole


def _url(university_id: int) -> str:
    return f"/api/v1/universities/{university_id}/members"


class TestListMembers:
    async def test_university_admin_lists_members_with_their_roles(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus = await make_campus(db)
        await grant_role(db, campus.ta, campus.university, UserRole.STUDENT)
        elsewhere = await make_university(db)
        await grant_role(db, campus.ta, elsewhere, UserRole.INSTRUCTOR)
        body = (
            await client.get(
                _url(campus.university.id), params={"limit": 100}, headers=auth_headers(settings, campus.admin)
            )
        ).json()
        assert body["total"] == 5
        ta = next(m for m in body["items"] if m["id"] == campus.ta.id)
        assert ta["roles"] == ["STUDENT", "TA"]
        assert ta["email"] == campus.ta.email
        assert ta["is_active"] is True
        assert {g["role"] for g in ta["grants"]} == {"STUDENT", "TA"}

    async def test_search_by_email_fragment(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus = await make_campus(db)
        alice = await make_member(db, campus.university, UserRole.STUDENT, email="alice.wonder@uni.example")
        response = await client.get(
            _url(campus.university.id), params={"q": "WONDER@UNI"}, headers=auth_headers(settings, campus.admin)
        )
        assert [m["id"] for m in response.json()["items"]] == [alice.id]

    async def test_search_by_name(self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings) -> None:
        campus = await make_campus(db)
        bob = await make_member(db, campus.university, UserRole.STUDENT, full_name="Roberto Bolaño")
        response = await client.get(
            _url(campus.university.id), params={"q": "bolaño"}, headers=auth_headers(settings, campus.admin)
        )
        assert [m["id"] for m in response.json()["items"]] == [bob.id]

    async def test_like_wildcards_in_the_search_are_literal(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus = await make_campus(db)
        underscored = await make_member(db, campus.university, UserRole.STUDENT, full_name="under_score")
        headers = auth_headers(settings, campus.admin)
        underscore = (await client.get(_url(campus.university.id), params={"q": "_"}, headers=headers)).json()
        assert [m["id"] for m in underscore["items"]] == [underscored.id]
        percent = (await client.get(_url(campus.university.id), params={"q": "%"}, headers=headers)).json()
        assert percent["total"] == 0

    async def test_filter_by_role(self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings) -> None:
        campus = await make_campus(db)
        response = await client.get(
            _url(campus.university.id), params={"role": "INSTRUCTOR"}, headers=auth_headers(settings, campus.admin)
        )
        assert [m["id"] for m in response.json()["items"]] == [campus.instructor.id]

    async def test_users_of_other_universities_are_not_members(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus, other = await make_campus(db), await make_campus(db)
        await make_user(db)
        body = (
            await client.get(
                _url(campus.university.id), params={"limit": 100}, headers=auth_headers(settings, campus.admin)
            )
        ).json()
        ids = {m["id"] for m in body["items"]}
        assert other.student.id not in ids
        assert campus.student.id in ids

    async def test_query_count_does_not_grow_with_the_number_of_members(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, db_engine: AsyncEngine
    ) -> None:
        small, large = await make_university(db), await make_university(db)
        admin = await make_user(db)
        for university, size in ((small, 3), (large, 30)):
            await grant_role(db, admin, university, UserRole.UNIVERSITY_ADMIN)
            for _ in range(size):
                member = await make_member(db, university, UserRole.STUDENT)
                await grant_role(db, member, university, UserRole.TA)
        headers = auth_headers(settings, admin)
        with count_statements(db_engine) as few:
            small_body = (await client.get(_url(small.id), params={"limit": 100}, headers=headers)).json()
        with count_statements(db_engine) as many:
            large_body = (await client.get(_url(large.id), params={"limit": 100}, headers=headers)).json()
        assert (small_body["total"], large_body["total"]) == (4, 31)
        assert few.count == many.count, (few.statements, many.statements)

    async def test_department_admin_may_list(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus = await make_campus(db)
        response = await client.get(_url(campus.university.id), headers=auth_headers(settings, campus.department_admin))
        assert response.status_code == 200

    async def test_instructor_is_403(self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings) -> None:
        campus = await make_campus(db)
        response = await client.get(_url(campus.university.id), headers=auth_headers(settings, campus.instructor))
        assert response.status_code == 403

    async def test_another_universitys_admin_is_404(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus, other = await make_campus(db), await make_campus(db)
        response = await client.get(_url(campus.university.id), headers=auth_headers(settings, other.admin))
        assert response.status_code == 404

    async def test_too_long_search_is_422(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        campus = await make_campus(db)
        response = await client.get(
            _url(campus.university.id), params={"q": "x" * 300}, headers=auth_headers(settings, campus.admin)
        )
        assert response.status_code == 422

    async def test_without_a_token_is_401(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        campus = await make_campus(db)
        assert (await client.get(_url(campus.university.id))).status_code == 401
