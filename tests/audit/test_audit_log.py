"""GET /universities/{id}/audit: the university's trail, for its admins and platform admins."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.factories import make_member
from tests.fixtures.membership import Caller, Tenant, make_tenant
from tests.fixtures.tenancy import make_platform_admin
from twosigma.config import Settings
from twosigma.enums import UserRole
from twosigma.users.models import User


def _audit(t: Tenant) -> str:
    return f"/universities/{t.university.id}/audit"


async def _grant_and_revoke(caller: Caller, t: Tenant, user: User, times: int = 1) -> None:
    for _ in range(times):
        grant = await caller.post(f"/universities/{t.university.id}/roles", {"user_id": user.id, "role": "TA"})
        assert grant.status_code == 201, grant.text
        assert (await caller.delete(f"/universities/{t.university.id}/roles/{grant.json()['id']}")).status_code == 204


class TestReadingTheLog:
    async def test_pages_newest_first(self, client: httpx.AsyncClient, settings: Settings, a: Tenant) -> None:
        admin = Caller(client, settings, a.admin)
        await _grant_and_revoke(admin, a, a.student, times=3)
        first = (await admin.get(_audit(a), params={"limit": 4})).json()
        assert (first["page"], first["limit"], first["total"], first["pages"]) == (1, 4, 6, 2)
        second = (await admin.get(_audit(a), params={"limit": 4, "page": 2})).json()
        ids = [e["id"] for e in first["items"] + second["items"]]
        assert ids == sorted(ids, reverse=True)
        assert [e["action"] for e in first["items"][:2]] == ["role.revoked", "role.granted"]

    async def test_filters_by_action(self, client: httpx.AsyncClient, settings: Settings, a: Tenant) -> None:
        admin = Caller(client, settings, a.admin)
        await _grant_and_revoke(admin, a, a.student, times=2)
        body = (await admin.get(_audit(a), params={"action": "role.granted"})).json()
        assert body["total"] == 2
        assert {e["action"] for e in body["items"]} == {"role.granted"}

    async def test_an_unknown_action_or_a_limit_over_100_is_422(
        self, client: httpx.AsyncClient, settings: Settings, a: Tenant
    ) -> None:
        admin = Caller(client, settings, a.admin)
        assert (await admin.get(_audit(a), params={"action": "role.stolen"})).status_code == 422
        assert (await admin.get(_audit(a), params={"limit": 101})).status_code == 422

    async def test_another_universitys_events_are_not_in_it(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, a: Tenant
    ) -> None:
        b = await make_tenant(db)
        await _grant_and_revoke(Caller(client, settings, b.admin), b, b.student)
        assert (await Caller(client, settings, a.admin).get(_audit(a))).json()["total"] == 0

    async def test_the_trail_survives_the_deletion_of_the_people_in_it(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, a: Tenant
    ) -> None:
        granter = await make_member(db, a.university, UserRole.UNIVERSITY_ADMIN)
        await _grant_and_revoke(Caller(client, settings, granter), a, a.student)
        await db.execute(delete(User).where(User.id.in_([granter.id, a.student.id])))
        log = (await Caller(client, settings, a.admin).get(_audit(a))).json()
        assert log["total"] == 2
        for event in log["items"]:
            assert (event["actor_id"], event["actor_email"]) == (granter.id, granter.email)
            assert (event["target_user_id"], event["target_email"]) == (a.student.id, a.student.email)


class TestWhoReadsIt:
    async def test_a_platform_admin_reads_any_universitys_log(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, a: Tenant
    ) -> None:
        await _grant_and_revoke(Caller(client, settings, a.admin), a, a.student)
        body = (await Caller(client, settings, await make_platform_admin(db)).get(_audit(a))).json()
        assert body["total"] == 2

    @pytest.mark.parametrize("who", ["department_admin", "instructor", "ta", "student"])
    async def test_other_members_get_403(
        self, client: httpx.AsyncClient, settings: Settings, a: Tenant, who: str
    ) -> None:
        assert (await Caller(client, settings, getattr(a, who)).get(_audit(a))).status_code == 403

    async def test_another_universitys_admin_gets_404(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, a: Tenant
    ) -> None:
        b = await make_tenant(db)
        assert (await Caller(client, settings, b.admin).get(_audit(a))).status_code == 404

    async def test_without_a_token_is_401(self, client: httpx.AsyncClient, a: Tenant) -> None:
        assert (await client.get(f"/api/v1{_audit(a)}")).status_code == 401
