from __future__ import annotations

from datetime import date, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.auth import make_subject
from tests.fixtures.factories import auth_headers, make_user
from twosigma.config import Settings

PROFILE = "/api/v1/users/me/profile"
PREFS = "/api/v1/users/me/subject-preferences"
EMPTY = {"date_of_birth": None, "learning_goal": None, "study_level": None, "grade": None}


class TestProfile:
    async def test_a_user_who_skipped_onboarding_has_an_empty_profile(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        user = await make_user(db)
        response = await client.get(PROFILE, headers=auth_headers(settings, user))
        assert response.status_code == 200
        assert response.json() == EMPTY

    async def test_put_creates_then_replaces_the_profile(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        user = await make_user(db)
        headers = auth_headers(settings, user)
        full = {
            "date_of_birth": "1999-12-31",
            "learning_goal": "CERTIFICATION",
            "study_level": "PROFESSIONAL",
            "grade": "GRADUATE",
        }
        assert (await client.put(PROFILE, headers=headers, json=full)).json() == full
        replaced = await client.put(PROFILE, headers=headers, json={"grade": "SENIOR"})
        assert replaced.status_code == 200
        assert replaced.json() == {**EMPTY, "grade": "SENIOR"}
        assert (await client.get(PROFILE, headers=headers)).json() == {**EMPTY, "grade": "SENIOR"}

    async def test_a_future_birth_date_is_refused(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        user = await make_user(db)
        future = (date.today() + timedelta(days=3)).isoformat()
        response = await client.put(PROFILE, headers=auth_headers(settings, user), json={"date_of_birth": future})
        assert response.status_code == 422

    async def test_an_unknown_enum_value_is_refused(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        user = await make_user(db)
        response = await client.put(PROFILE, headers=auth_headers(settings, user), json={"study_level": "NAP"})
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "validation_error"

    async def test_requires_a_token(self, client: httpx.AsyncClient) -> None:
        assert (await client.get(PROFILE)).status_code == 401
        assert (await client.put(PROFILE, json={})).status_code == 401


class TestSubjectPreferences:
    async def test_starts_empty(self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings) -> None:
        user = await make_user(db)
        response = await client.get(PREFS, headers=auth_headers(settings, user))
        assert response.status_code == 200
        assert response.json() == {"subject_ids": []}

    async def test_put_replaces_the_set_and_collapses_duplicates(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        user = await make_user(db)
        headers = auth_headers(settings, user)
        a, b, c = await make_subject(db), await make_subject(db), await make_subject(db)
        first = await client.put(PREFS, headers=headers, json={"subject_ids": [b.id, a.id, b.id]})
        assert first.json() == {"subject_ids": sorted([a.id, b.id])}
        second = await client.put(PREFS, headers=headers, json={"subject_ids": [c.id, a.id]})
        assert second.json() == {"subject_ids": sorted([a.id, c.id])}
        assert (await client.get(PREFS, headers=headers)).json() == {"subject_ids": sorted([a.id, c.id])}

    async def test_an_empty_list_clears_the_set(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        user = await make_user(db)
        headers = auth_headers(settings, user)
        subject = await make_subject(db)
        await client.put(PREFS, headers=headers, json={"subject_ids": [subject.id]})
        assert (await client.put(PREFS, headers=headers, json={"subject_ids": []})).json() == {"subject_ids": []}

    async def test_unknown_subjects_are_named_and_the_old_set_is_kept(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        user = await make_user(db)
        headers = auth_headers(settings, user)
        subject = await make_subject(db)
        await client.put(PREFS, headers=headers, json={"subject_ids": [subject.id]})
        response = await client.put(PREFS, headers=headers, json={"subject_ids": [subject.id, 987_654_321]})
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "unknown_subjects"
        assert response.json()["error"]["details"] == {"unknown_subject_ids": [987_654_321]}
        assert (await client.get(PREFS, headers=headers)).json() == {"subject_ids": [subject.id]}

    async def test_malformed_ids_are_a_validation_error(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        user = await make_user(db)
        for ids in (["x"], [0], None):
            response = await client.put(PREFS, headers=auth_headers(settings, user), json={"subject_ids": ids})
            assert response.status_code == 422, ids

    async def test_preferences_are_per_user(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        user, other = await make_user(db), await make_user(db)
        subject = await make_subject(db)
        await client.put(PREFS, headers=auth_headers(settings, other), json={"subject_ids": [subject.id]})
        assert (await client.get(PREFS, headers=auth_headers(settings, user))).json() == {"subject_ids": []}

    async def test_requires_a_token(self, client: httpx.AsyncClient) -> None:
        assert (await client.get(PREFS)).status_code == 401
        assert (await client.put(PREFS, json={"subject_ids": []})).status_code == 401
