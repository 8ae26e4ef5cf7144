"""Chat retention: a university's `chat_retention_days` makes the daily job delete its chats idle for longer, and
nothing else."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.factories import auth_headers
from tests.fixtures.tutor import add_messages, make_chat, make_lesson
from tests.privacy.conftest import drain
from twosigma.config import Settings
from twosigma.privacy import service
from twosigma.privacy.models import ChatRetentionRun
from twosigma.tutor.models import ChatSession

API = "/api/v1"
# A day of its own: a server started by another test may have run today's retention for real.
DAY = datetime(2031, 5, 4, 3, 0, tzinfo=UTC)


async def test_the_policy_carries_the_retention(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    lesson = await make_lesson(db)
    campus = lesson.classroom.campus
    url = f"{API}/universities/{campus.university.id}/access-policy"
    headers = auth_headers(settings, campus.admin)
    assert (await client.get(url, headers=headers)).json()["chat_retention_days"] is None
    for bad in (0, -1, 3651, "soon"):
        assert (await client.put(url, json={"chat_retention_days": bad}, headers=headers)).status_code == 422, bad
    saved = await client.put(url, json={"chat_retention_days": 30}, headers=headers)
    assert saved.status_code == 200
    assert saved.json()["chat_retention_days"] == 30
    assert (await client.get(url, headers=headers)).json()["chat_retention_days"] == 30


async def test_the_daily_job_deletes_only_that_universitys_old_chats(
    app: FastAPI,
    client: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ours, theirs = await make_lesson(db), await make_lesson(db)
    campus = ours.classroom.campus
    put = await client.put(
        f"{API}/universities/{campus.university.id}/access-policy",
        json={"chat_retention_days": 30},
        headers=auth_headers(settings, campus.admin),
    )
    assert put.status_code == 200
    old, recent = DAY - timedelta(days=40), DAY - timedelta(days=10)
    chats = {
        "ours, old": await make_chat(db, ours.student, content_item_id=ours.item.id, updated_at=old),
        "ours, recent": await make_chat(db, ours.student, content_item_id=ours.item.id, updated_at=recent),
        "theirs, old": await make_chat(db, theirs.student, content_item_id=theirs.item.id, updated_at=old),
        "our member, no item, old": await make_chat(db, ours.student, updated_at=old),
        "their member, no item, old": await make_chat(db, theirs.student, updated_at=old),
        "their member about our item, old": await make_chat(
            db, theirs.student, content_item_id=ours.item.id, updated_at=old
        ),
    }
    await add_messages(db, chats["ours, old"], 2)
    await add_messages(db, chats["our member, no item, old"], 1)
    await add_messages(db, chats["their member about our item, old"], 1)
    await add_messages(db, chats["theirs, old"], 3)

    ids = {name: chat.id for name, chat in chats.items()}
    university_id = campus.university.id
    with caplog.at_level(logging.INFO, logger="twosigma.privacy.service"):
        assert await drain(app, service.RETENTION_QUEUE, at=DAY) == 1
    db.expire_all()
    left = set(await db.scalars(select(ChatSession.id).where(ChatSession.id.in_(ids.values()))))
    kept = {name for name, chat_id in ids.items() if chat_id in left}
    assert kept == {"ours, recent", "theirs, old", "their member, no item, old"}
    [line] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("chat retention")]
    assert "3 chat sessions (4 messages) deleted" in line
    assert f"{university_id}:3" in line
    run = await db.get(ChatRetentionRun, DAY.date())
    assert run is not None
    assert (run.sessions_deleted, run.messages_deleted) == (3, 4)

    # Once a day: the next drain that day does nothing.
    assert await drain(app, service.RETENTION_QUEUE, at=DAY + timedelta(hours=5)) == 0
