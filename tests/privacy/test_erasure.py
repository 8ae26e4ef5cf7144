"""Erase it: after `DELETE /users/me` (or a platform admin's `DELETE /admin/users/{id}`) no personal string of the
person remains in any text, varchar, json or array column of the database; the anonymous learning records remain;
the person cannot sign in and their address can register again."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.factories import DEFAULT_PASSWORD, auth_headers, make_user
from tests.fixtures.tenancy import make_platform_admin
from tests.privacy.conftest import Learner
from twosigma.assessments.models import QuizAttempt
from twosigma.audit.models import AuditEvent
from twosigma.config import Settings
from twosigma.enrollments.models import CourseEnrollment
from twosigma.progress.models import UserContentProgress
from twosigma.tutor.models import ChatSession
from twosigma.users.models import User

API = "/api/v1"
TEXT_TYPES = ("text", "character varying", "character", "json", "jsonb", "ARRAY", "USER-DEFINED")


async def text_columns(db: AsyncSession) -> list[tuple[str, str]]:
    rows = await db.execute(
        text(
            "SELECT c.table_name, c.column_name FROM information_schema.columns c "
            "JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name "
            "WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' AND c.data_type = ANY(:types) "
            "ORDER BY c.table_name, c.column_name"
        ),
        {"types": list(TEXT_TYPES)},
    )
    return [(row.table_name, row.column_name) for row in rows]


async def where_found(db: AsyncSession, needle: str) -> list[str]:
    """Every `table.column` of the database whose value, as text, contains `needle` (case-insensitive)."""
    found = []
    for table, column in await text_columns(db):
        count = await db.scalar(
            text(f'SELECT count(*) FROM public."{table}" WHERE "{column}"::text ILIKE :pattern'),
            {"pattern": f"%{needle}%"},
        )
        if count:
            found.append(f"{table}.{column}")
    return found


async def test_the_scan_sees_every_kind_of_personal_string_before_erasure(db: AsyncSession, learner: Learner) -> None:
    """The scan is not vacuous: before the erasure each string is found where it lives."""
    assert len(await text_columns(db)) > 50
    for what, needle in learner.personal_strings.items():
        assert await where_found(db, needle), what


async def test_erasing_yourself_leaves_no_personal_string_anywhere(
    app: FastAPI, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, learner: Learner
) -> None:
    user_id, email = learner.user.id, learner.user.email
    strings = learner.personal_strings
    response = await client.request(
        "DELETE", f"{API}/users/me", json={"password": DEFAULT_PASSWORD}, headers=auth_headers(settings, learner.user)
    )
    assert response.status_code == 204, response.text
    db.expire_all()

    for what, needle in strings.items():
        assert await where_found(db, needle) == [], what

    # A tombstone remains; the learning records point at it, anonymous (quiz answers as typed are gone).
    tombstone = await db.get(User, user_id)
    assert tombstone is not None
    assert tombstone.erased_at is not None
    assert not tombstone.is_active
    assert tombstone.email == f"erased-{user_id}@erased.invalid"
    assert tombstone.full_name == "Erased user"
    assert (
        await db.scalar(select(func.count()).select_from(CourseEnrollment).where(CourseEnrollment.user_id == user_id))
        == 1
    )
    assert (
        await db.scalar(
            select(func.count()).select_from(UserContentProgress).where(UserContentProgress.user_id == user_id)
        )
        == 1
    )
    attempt = await db.scalar(select(QuizAttempt).where(QuizAttempt.user_id == user_id))
    assert attempt is not None
    assert attempt.answers == {}
    assert attempt.max_points == 1.0
    assert await db.scalar(select(func.count()).select_from(ChatSession).where(ChatSession.user_id == user_id)) == 0
    # The audit log records the erasure, without personal data.
    event = await db.scalar(select(AuditEvent).where(AuditEvent.action == "account.erased"))
    assert event is not None
    assert event.target_user_id == user_id
    assert event.actor_email is None
    assert event.target_email is None
    assert event.details == {"by": "self"}

    # No way back in; the address is free again.
    login = await client.post(f"{API}/auth/login", json={"email": email, "password": DEFAULT_PASSWORD})
    assert login.status_code == 401
    assert (await client.get(f"{API}/users/me", headers=auth_headers(settings, tombstone))).status_code == 401
    again = await client.post(
        f"{API}/auth/register", json={"email": email, "password": "a-new-life-42", "full_name": "Ada Again"}
    )
    assert again.status_code == 201, again.text


async def test_a_wrong_password_erases_nothing(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, learner: Learner
) -> None:
    headers = auth_headers(settings, learner.user)
    for body in ({"password": "not-my-password-1"}, {}, {"confirm_email": learner.user.email}):
        response = await client.request("DELETE", f"{API}/users/me", json=body, headers=headers)
        assert response.status_code == 422, body
        assert response.json()["error"]["code"] == "invalid_current_password"
    assert await where_found(db, learner.user.email)
    assert (await db.get(User, learner.user.id)).erased_at is None  # type: ignore[union-attr]


async def test_an_account_without_a_password_confirms_with_its_email(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    user = await make_user(db, password_hash="!sso-only", email="sso-only@example.edu")
    headers = auth_headers(settings, user)
    wrong = await client.request(
        "DELETE", f"{API}/users/me", json={"confirm_email": "other@example.edu"}, headers=headers
    )
    assert wrong.status_code == 422
    assert wrong.json()["error"]["code"] == "erasure_not_confirmed"
    assert (
        await client.request("DELETE", f"{API}/users/me", json={"password": "guess"}, headers=headers)
    ).status_code == 422
    right = await client.request(
        "DELETE", f"{API}/users/me", json={"confirm_email": "SSO-Only@example.edu"}, headers=headers
    )
    assert right.status_code == 204
    assert await where_found(db, "sso-only@example.edu") == []


async def test_a_platform_admin_erases_anyone_else(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, learner: Learner
) -> None:
    admin = await make_platform_admin(db)
    admin_headers = auth_headers(settings, admin)
    target = f"{API}/admin/users/{learner.user.id}"
    user_id, strings, admin_id = learner.user.id, learner.personal_strings, admin.id
    # Not a platform admin: 403, even the university's admin.
    university_admin = learner.lesson.classroom.campus.admin
    assert (await client.delete(target, headers=auth_headers(settings, university_admin))).status_code == 403
    assert (await client.delete(f"{API}/admin/users/{admin_id}", headers=admin_headers)).json()["error"][
        "code"
    ] == "cannot_erase_self"
    assert (await client.delete(f"{API}/admin/users/2147483000", headers=admin_headers)).status_code == 404

    assert (await client.delete(target, headers=admin_headers)).status_code == 204
    db.expire_all()
    for what, needle in strings.items():
        assert await where_found(db, needle) == [], what
    event = await db.scalar(select(AuditEvent).where(AuditEvent.action == "account.erased"))
    assert event is not None
    assert event.actor_id == admin_id
    assert event.details == {"by": "platform_admin"}
    # Erased once; a second time there is nobody to erase, and the tombstone cannot be reactivated.
    assert (await client.delete(target, headers=admin_headers)).status_code == 404
    reactivate = await client.patch(f"{API}/users/{user_id}", json={"is_active": True}, headers=admin_headers)
    assert reactivate.status_code == 409
    assert reactivate.json()["error"]["code"] == "account_erased"


async def test_the_last_platform_admin_cannot_erase_themselves(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await db.execute(text("DELETE FROM user_university_roles WHERE role = 'PLATFORM_ADMIN'"))
    admin = await make_platform_admin(db)
    response = await client.request(
        "DELETE", f"{API}/users/me", json={"password": DEFAULT_PASSWORD}, headers=auth_headers(settings, admin)
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "last_platform_admin"
