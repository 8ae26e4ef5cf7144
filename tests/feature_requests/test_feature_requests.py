"""/api/v1/feature-requests: authors file and read their own; platform admins see all and triage."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.factories import auth_headers, make_member, make_university, make_user
from twosigma.config import Settings
from twosigma.enums import FeatureRequestStatus, UserRole
from twosigma.feature_requests.models import FeatureRequest
from twosigma.users.models import User

URL = "/api/v1/feature-requests"


async def make_request(db: AsyncSession, user: User, **overrides: object) -> FeatureRequest:
    request = FeatureRequest(
        user_id=user.id,
        title=overrides.pop("title", "Dark mode"),
        description=overrides.pop("description", "Please add a dark theme."),
        **overrides,
    )
    db.add(request)
    await db.flush()
    return request


async def platform_admin(db: AsyncSession) -> User:
    return await make_member(db, await make_university(db), UserRole.PLATFORM_ADMIN)


class TestCreate:
    async def test_any_signed_in_user_files_a_request_that_starts_open(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        user = await make_user(db)
        response = await client.post(
            URL,
            json={"title": "  Offline mode ", "description": "Let me study on the train."},
            headers=auth_headers(settings, user),
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["title"] == "Offline mode"
        assert body["status"] == "OPEN"
        assert body["user_id"] == user.id
        assert body["created_at"].endswith(("Z", "+00:00"))

    async def test_a_missing_description_is_a_validation_error(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        user = await make_user(db)
        response = await client.post(URL, json={"title": "Offline mode"}, headers=auth_headers(settings, user))
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "validation_error"

    async def test_a_client_cannot_choose_the_status(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        user = await make_user(db)
        response = await client.post(
            URL, json={"title": "Offline", "description": "x", "status": "DONE"}, headers=auth_headers(settings, user)
        )
        assert response.status_code == 422

    async def test_without_a_token_is_401(self, client: httpx.AsyncClient) -> None:
        response = await client.post(URL, json={"title": "Offline", "description": "x"})
        assert response.status_code == 401


class TestList:
    async def test_a_user_sees_only_their_own_requests(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        me, other = await make_user(db), await make_user(db)
        mine = await make_request(db, me)
        await make_request(db, other)
        response = await client.get(URL, headers=auth_headers(settings, me))
        assert response.status_code == 200
        body = response.json()
        assert [r["id"] for r in body["items"]] == [mine.id]
        assert body["total"] == 1

    async def test_a_platform_admin_sees_everyones_requests(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        admin = await platform_admin(db)
        ids = {(await make_request(db, await make_user(db))).id for _ in range(3)}
        response = await client.get(URL, params={"limit": 100}, headers=auth_headers(settings, admin))
        assert ids <= {r["id"] for r in response.json()["items"]}

    async def test_a_platform_admin_can_ask_for_their_own_only(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        admin = await platform_admin(db)
        own = await make_request(db, admin)
        await make_request(db, await make_user(db))
        response = await client.get(URL, params={"mine": "true"}, headers=auth_headers(settings, admin))
        assert [r["id"] for r in response.json()["items"]] == [own.id]

    async def test_a_university_admin_sees_only_their_own(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        uni_admin = await make_member(db, await make_university(db), UserRole.UNIVERSITY_ADMIN)
        await make_request(db, await make_user(db))
        response = await client.get(URL, headers=auth_headers(settings, uni_admin))
        assert response.json()["items"] == []

    async def test_the_status_filter_and_pagination_apply(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        me = await make_user(db)
        for _ in range(3):
            await make_request(db, me, status=FeatureRequestStatus.PLANNED)
        await make_request(db, me)
        response = await client.get(
            URL, params={"status": "PLANNED", "limit": 2, "page": 2}, headers=auth_headers(settings, me)
        )
        body = response.json()
        assert (body["total"], body["pages"], len(body["items"])) == (3, 2, 1)
        assert body["items"][0]["status"] == "PLANNED"

    async def test_an_unknown_status_is_a_validation_error(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        response = await client.get(
            URL, params={"status": "MAYBE"}, headers=auth_headers(settings, await make_user(db))
        )
        assert response.status_code == 422

    async def test_without_a_token_is_401(self, client: httpx.AsyncClient) -> None:
        assert (await client.get(URL)).status_code == 401


class TestRead:
    async def test_the_author_reads_their_request(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        me = await make_user(db)
        request = await make_request(db, me)
        response = await client.get(f"{URL}/{request.id}", headers=auth_headers(settings, me))
        assert response.status_code == 200
        assert response.json()["description"] == "Please add a dark theme."

    async def test_someone_elses_request_is_404(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        request = await make_request(db, await make_user(db))
        response = await client.get(f"{URL}/{request.id}", headers=auth_headers(settings, await make_user(db)))
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "feature_request_not_found"

    async def test_a_platform_admin_reads_any_request(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        request = await make_request(db, await make_user(db))
        response = await client.get(f"{URL}/{request.id}", headers=auth_headers(settings, await platform_admin(db)))
        assert response.status_code == 200


class TestSetStatus:
    async def test_a_platform_admin_moves_a_request_through_triage(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        request = await make_request(db, await make_user(db))
        headers = auth_headers(settings, await platform_admin(db))
        for status in ("PLANNED", "IN_PROGRESS", "DONE"):
            response = await client.patch(f"{URL}/{request.id}", json={"status": status}, headers=headers)
            assert response.status_code == 200, response.text
            assert response.json()["status"] == status

    async def test_the_author_may_not_set_the_status(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        me = await make_user(db)
        request = await make_request(db, me)
        response = await client.patch(
            f"{URL}/{request.id}", json={"status": "DONE"}, headers=auth_headers(settings, me)
        )
        assert response.status_code == 403

    async def test_a_university_admin_may_not_touch_someone_elses_request(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        request = await make_request(db, await make_user(db))
        uni_admin = await make_member(db, await make_university(db), UserRole.UNIVERSITY_ADMIN)
        response = await client.patch(
            f"{URL}/{request.id}", json={"status": "DONE"}, headers=auth_headers(settings, uni_admin)
        )
        assert response.status_code == 404

    async def test_an_unknown_status_is_a_validation_error(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        request = await make_request(db, await make_user(db))
        response = await client.patch(
            f"{URL}/{request.id}", json={"status": "SHIPPED"}, headers=auth_headers(settings, await platform_admin(db))
        )
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "validation_error"

    async def test_without_a_token_is_401(self, client: httpx.AsyncClient) -> None:
        assert (await client.patch(f"{URL}/1", json={"status": "DONE"})).status_code == 401


class TestDelete:
    async def test_the_author_withdraws_an_open_request(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        me = await make_user(db)
        request = await make_request(db, me)
        headers = auth_headers(settings, me)
        assert (await client.delete(f"{URL}/{request.id}", headers=headers)).status_code == 204
        assert (await client.get(f"{URL}/{request.id}", headers=headers)).status_code == 404

    async def test_a_triaged_request_cannot_be_withdrawn_by_its_author(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        me = await make_user(db)
        request = await make_request(db, me, status=FeatureRequestStatus.PLANNED)
        response = await client.delete(f"{URL}/{request.id}", headers=auth_headers(settings, me))
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "feature_request_not_open"

    async def test_someone_elses_request_is_404(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        request = await make_request(db, await make_user(db))
        response = await client.delete(f"{URL}/{request.id}", headers=auth_headers(settings, await make_user(db)))
        assert response.status_code == 404

    async def test_a_platform_admin_deletes_any_request(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        request = await make_request(db, await make_user(db), status=FeatureRequestStatus.DECLINED)
        response = await client.delete(f"{URL}/{request.id}", headers=auth_headers(settings, await platform_admin(db)))
        assert response.status_code == 204
