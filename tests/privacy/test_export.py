"""Take it: an export is built by the background job into one ZIP of JSON files, downloadable by its owner only,
until it expires."""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from tests.fixtures.factories import auth_headers, make_user
from tests.fixtures.tenancy import make_platform_admin
from tests.privacy.conftest import Learner, drain
from twosigma.config import Settings
from twosigma.db.engine import Database, make_sessionmaker
from twosigma.jobs import queue
from twosigma.jobs.models import JobQueueRun
from twosigma.jobs.runner import JobRunner
from twosigma.kit.clock import get_now
from twosigma.mail.models import MailOutbox
from twosigma.privacy import repository, service
from twosigma.privacy.models import DataExport
from twosigma.users.models import User

API = "/api/v1"
FILES = {
    "README.txt",
    "account.json",
    "profile.json",
    "roles.json",
    "enrollments.json",
    "progress.json",
    "quiz_attempts.json",
    "chats.json",
    "feedback.json",
    "sso_identities.json",
}


async def test_the_owner_gets_one_zip_of_everything_with_a_readme(
    app: FastAPI, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, learner: Learner
) -> None:
    headers = auth_headers(settings, learner.user)
    asked = await client.post(f"{API}/users/me/export", headers=headers)
    assert asked.status_code == 202, asked.text
    export = asked.json()
    assert export["status"] == "PENDING"
    assert export["download_url"] is None
    # Asking again while it waits gives the same export.
    assert (await client.post(f"{API}/users/me/export", headers=headers)).json()["id"] == export["id"]
    assert (await client.get(f"{API}/users/me/exports/{export['id']}/download", headers=headers)).status_code == 409

    assert await drain(app, service.EXPORT_QUEUE) == 1
    ready = (await client.get(f"{API}/users/me/exports/{export['id']}", headers=headers)).json()
    assert ready["status"] == "READY"
    download = await client.get(ready["download_url"], headers=headers)
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/zip"
    assert int(download.headers["content-length"]) == ready["size_bytes"] == len(download.content)

    archive = zipfile.ZipFile(io.BytesIO(download.content))
    assert set(archive.namelist()) == FILES
    readme = archive.read("README.txt").decode()
    for name in FILES - {"README.txt"}:
        assert name in readme
    data = {name: json.loads(archive.read(name)) for name in FILES - {"README.txt"}}
    m = learner.marker
    assert data["account.json"]["email"] == learner.user.email
    assert data["account.json"]["full_name"] == learner.user.full_name
    assert "password_hash" not in data["account.json"]
    assert data["profile.json"]["profile"]["date_of_birth"] == "2001-02-03"
    assert len(data["profile.json"]["subject_preferences"]) == 1
    assert [r["role"] for r in data["roles.json"]["roles"]] == ["STUDENT"]
    assert data["roles.json"]["suspensions"][0]["reason"] == f"reason {m}"
    assert [e["status"] for e in data["enrollments.json"]] == ["ACTIVE"]
    assert data["progress.json"]["content_items"][0]["progress_percent"] == 60
    assert data["quiz_attempts.json"][0]["answers"] == {"q1": f"free answer {m}"}
    [chat] = data["chats.json"]
    assert [msg["content"] for msg in chat["messages"]] == [f"my question {m}", f"tutor answer {m}"]
    assert chat["messages"][1]["meta"] == {"rating": 1}
    assert [note["content"] for note in chat["notes"]] == [f"my note {m}"]
    assert "share_token" not in chat
    assert data["feedback.json"][0]["description"] == f"please add {m}"
    assert data["sso_identities.json"][0]["subject"] == f"sub-{m}"

    # The owner is told by mail (no link: the download needs their sign-in).
    notice = await db.scalar(select(MailOutbox).where(MailOutbox.template == "export_ready"))
    assert notice is not None
    assert notice.recipient == learner.user.email
    assert "http" not in notice.body_text


async def test_another_users_export_is_404_even_for_a_platform_admin(
    app: FastAPI, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, learner: Learner
) -> None:
    export_id = (await client.post(f"{API}/users/me/export", headers=auth_headers(settings, learner.user))).json()["id"]
    await drain(app, service.EXPORT_QUEUE)
    for other in (await make_user(db), await make_platform_admin(db)):
        for path in (f"/users/me/exports/{export_id}", f"/users/me/exports/{export_id}/download"):
            response = await client.get(API + path, headers=auth_headers(settings, other))
            assert response.status_code == 404, path
            assert response.json()["error"]["code"] == "export_not_found"
            assert learner.marker not in response.text


async def test_an_expired_export_is_410_then_deleted_by_the_job(
    app: FastAPI, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, learner: Learner
) -> None:
    headers = auth_headers(settings, learner.user)
    export_id = (await client.post(f"{API}/users/me/export", headers=headers)).json()["id"]
    await drain(app, service.EXPORT_QUEUE)
    later = datetime.now(UTC) + service.EXPORT_LIFETIME + timedelta(minutes=1)
    app.dependency_overrides[get_now] = lambda: later
    status = (await client.get(f"{API}/users/me/exports/{export_id}", headers=headers)).json()
    assert status["status"] == "EXPIRED"
    assert status["download_url"] is None
    gone = await client.get(f"{API}/users/me/exports/{export_id}/download", headers=headers)
    assert gone.status_code == 410
    assert gone.json()["error"]["code"] == "export_expired"

    await drain(app, service.EXPORT_QUEUE, at=later)
    assert await db.scalar(select(func.count()).select_from(DataExport).where(DataExport.id == export_id)) == 0
    assert (await client.get(f"{API}/users/me/exports/{export_id}/download", headers=headers)).status_code == 404


async def test_two_drains_at_once_build_each_export_once(settings: Settings, db_engine: AsyncEngine) -> None:
    """Committed rows and two runners draining at the same time: FOR UPDATE SKIP LOCKED shares the work."""
    database = Database(engine=db_engine, sessionmaker=make_sessionmaker(db_engine))
    async with database.sessionmaker() as session, session.begin():
        users = [
            User(email=f"parallel-export-{n}@example.edu", password_hash="x", full_name=f"Parallel {n}")
            for n in range(6)
        ]
        session.add_all(users)
        await session.flush()
        now = datetime.now(UTC)
        for user in users:
            session.add(DataExport(user_id=user.id, next_attempt_at=now, expires_at=now + service.EXPORT_LIFETIME))
        user_ids = [user.id for user in users]
    try:
        first = JobRunner([service.export_queue()])
        second = JobRunner([service.export_queue()])
        handled = await asyncio.gather(
            first.drain(database, service.EXPORT_QUEUE), second.drain(database, service.EXPORT_QUEUE)
        )
        assert sum(handled) == len(user_ids)
        async with database.sessionmaker() as session:
            rows = (
                await session.execute(
                    select(DataExport.status, DataExport.attempts).where(DataExport.user_id.in_(user_ids))
                )
            ).all()
            assert [(row.status, row.attempts) for row in rows] == [("DONE", 1)] * len(user_ids)
            mails = await session.scalar(
                select(func.count()).select_from(MailOutbox).where(MailOutbox.recipient.like("parallel-export-%"))
            )
            assert mails == len(user_ids)
    finally:
        async with database.sessionmaker() as session, session.begin():
            await session.execute(delete(MailOutbox).where(MailOutbox.recipient.like("parallel-export-%")))
            await session.execute(delete(User).where(User.id.in_(user_ids)))
            await session.execute(delete(JobQueueRun))


async def test_an_export_whose_worker_vanished_is_built_again_after_its_lease(
    app: FastAPI, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, learner: Learner
) -> None:
    headers = auth_headers(settings, learner.user)
    export_id = (await client.post(f"{API}/users/me/export", headers=headers)).json()["id"]
    now = datetime.now(UTC)
    # A worker claims it and dies before storing anything.
    [claimed] = await queue.claim(db, repository.EXPORTS, now, 5)
    assert claimed.id == export_id
    assert await drain(app, service.EXPORT_QUEUE, at=now + timedelta(minutes=1)) == 0  # its lease holds
    assert await drain(app, service.EXPORT_QUEUE, at=now + repository.EXPORTS.lease + timedelta(seconds=1)) == 1
    export = await db.get(DataExport, export_id, populate_existing=True)
    assert export is not None
    assert (export.status, export.attempts) == ("DONE", 2)
