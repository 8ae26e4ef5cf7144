"""Secrets stay secret: never in any log record, password hashes never serialized, share tokens unguessable."""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fakes import FakeAnthropic
from tests.fixtures.auth import STRONG_PASSWORD, bearer
from tests.fixtures.factories import auth_headers, make_member, make_university
from tests.fixtures.prompts import basic_auth
from tests.fixtures.tutor import make_chat, make_lesson
from tests.security.test_isolation_matrix import MATRIX, ROUTES, Case, fill
from tests.security.world import World, make_world
from twosigma.config import Settings
from twosigma.enums import UserRole
from twosigma.kit.logging import JsonFormatter
from twosigma.kit.state import state_of
from twosigma.system_settings.registry import KNOWN_SETTINGS

API = "/api/v1"


@pytest.fixture(autouse=True)
async def _close_llm_clients(app: FastAPI) -> AsyncIterator[None]:
    yield
    await state_of(app).llm_providers.aclose()


@pytest.fixture(autouse=True)
def _no_provider_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for spec in KNOWN_SETTINGS.values():
        for name in spec.env_vars:
            monkeypatch.delenv(name, raising=False)


def every_rendering(records: list[logging.LogRecord]) -> Iterator[str]:
    """Each record as every handler could render it: message, args, extras (JSON line), traceback."""
    formatter = JsonFormatter()
    for record in records:
        yield record.getMessage()
        yield repr(record.args)
        yield formatter.format(record)
        if record.exc_info:
            yield logging.Formatter().formatException(record.exc_info)


class TestNoSecretInLogs:
    async def test_passwords_tokens_setting_secrets_and_api_key_secrets_never_reach_a_log_record(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        fake_anthropic: FakeAnthropic,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        caplog.set_level(logging.DEBUG)  # the root logger: every logger's records, SQL statements included
        password = "Pw-" + secrets.token_hex(8) + "1"
        wrong_password = "Wrong-" + secrets.token_hex(8) + "1"
        new_password = "New-" + secrets.token_hex(8) + "1"
        provider_key = "sk-ant-" + secrets.token_hex(16)
        email = f"logs-{secrets.token_hex(4)}@example.edu"

        registered = await client.post(
            f"{API}/auth/register", json={"email": email, "password": password, "full_name": "Log Watcher"}
        )
        assert registered.status_code == 201
        assert (
            await client.post(f"{API}/auth/login", json={"email": email, "password": wrong_password})
        ).status_code == 401
        login = await client.post(f"{API}/auth/login", json={"email": email, "password": password})
        assert login.status_code == 200
        pair = login.json()
        refreshed = await client.post(f"{API}/auth/refresh", headers=bearer(pair["refresh_token"]))
        assert refreshed.status_code == 200
        changed = await client.post(
            f"{API}/auth/change-password",
            json={"current_password": password, "new_password": new_password},
            headers=bearer(refreshed.json()["access_token"]),
        )
        assert changed.status_code == 204
        form = await client.post(f"{API}/auth/token", data={"username": email, "password": new_password})
        assert form.status_code == 200

        admin = auth_headers(settings, await make_member(db, await make_university(db), UserRole.PLATFORM_ADMIN))
        for key, value in [
            ("llm.provider", "anthropic"),
            ("llm.anthropic_base_url", fake_anthropic.url),
            ("llm.default_model", "claude-tutor-test"),
            ("llm.anthropic_api_key", provider_key),
        ]:
            response = await client.put(f"{API}/admin/settings/{key}", json={"value": value}, headers=admin)
            assert response.status_code == 200, response.text
        assert (await client.get(f"{API}/admin/settings", headers=admin)).status_code == 200
        checked = await client.post(f"{API}/admin/llm/test", headers=admin)
        assert checked.status_code == 200, checked.text
        sent = {name.lower(): value for name, value in fake_anthropic.requests[-1].headers.items()}
        # Older SDKs send x-api-key, the 2.x SDK a bearer token.
        assert (sent.get("x-api-key") or sent["authorization"].removeprefix("Bearer ")) == provider_key

        created = await client.post(f"{API}/api-keys", json={"name": "log test"}, headers=admin)
        assert created.status_code == 201
        key = created.json()
        listed = await client.get("/api/public/v2/prompts", headers=basic_auth(key["public_key"], key["secret_key"]))
        assert listed.status_code == 200
        wrong_key = await client.get("/api/public/v2/prompts", headers=basic_auth(key["public_key"], "sk-wrong-1"))
        assert wrong_key.status_code == 401

        plaintexts = {
            "password": password,
            "wrong password": wrong_password,
            "new password": new_password,
            "refresh token": pair["refresh_token"],
            "rotated refresh token": refreshed.json()["refresh_token"],
            "access token": pair["access_token"],
            "provider API key": provider_key,
            "API key secret": key["secret_key"],
        }
        assert len(caplog.records) > 20  # the sweep really saw the app's (and SQLAlchemy's) records
        rendered = "\n".join(every_rendering(caplog.records))
        leaked = [name for name, value in plaintexts.items() if value in rendered]
        assert leaked == []


def _get_cases() -> list[tuple[str, Case]]:
    return [(key, case) for key in ROUTES if key.startswith("GET ") for case in MATRIX[key]]


class TestPasswordHashesAreNeverSerialized:
    async def test_no_get_route_returns_a_password_hash_to_anyone(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        world: World = await make_world(db, settings)
        platform_admin = await make_member(db, await make_university(db), UserRole.PLATFORM_ADMIN)
        callers = [
            auth_headers(settings, platform_admin),
            auth_headers(settings, world.student_a),
            world.headers["outsider_admin"],
        ]
        bodies: list[str] = []
        for key, case in _get_cases():
            path = fill(key.split(" ", 1)[1], world.params | (case.params(world) if case.params else {}))
            query = case.query(world) if callable(case.query) else case.query
            for headers in callers:
                response = await client.get(path, params=query, headers=headers)
                assert response.status_code < 500, f"{key}: {response.status_code}"
                bodies.append(response.text)
        # Sign-up and sign-in answers too.
        register = await client.post(
            f"{API}/auth/register",
            json={"email": f"hash-{secrets.token_hex(4)}@example.edu", "password": STRONG_PASSWORD, "full_name": "H"},
        )
        bodies.append(register.text)
        assert len(bodies) > 150
        for body in bodies:
            assert "password_hash" not in body
            assert "$2b$" not in body
            assert "$2a$" not in body


URLSAFE = re.compile(r"^[A-Za-z0-9_-]+$")


class TestShareTokens:
    async def test_tokens_carry_at_least_256_bits_and_never_repeat(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        lesson = await make_lesson(db)
        headers = auth_headers(settings, lesson.student)
        tokens: list[str] = []
        for _ in range(60):
            chat = await make_chat(db, lesson.student)
            first = await client.post(f"{API}/chat/sessions/{chat.id}/share", headers=headers)
            assert first.status_code == 200
            assert (await client.delete(f"{API}/chat/sessions/{chat.id}/share", headers=headers)).status_code == 204
            second = await client.post(f"{API}/chat/sessions/{chat.id}/share", headers=headers)
            tokens += [first.json()["share_token"], second.json()["share_token"]]
            assert second.json()["share_url"].endswith("/" + second.json()["share_token"])
        for token in tokens:
            assert URLSAFE.match(token)
            assert len(token) * 6 >= 256  # base64url: 6 bits a character; token_urlsafe(32) gives 43 characters
        assert len(set(tokens)) == len(tokens) == 120

    async def test_a_revoked_token_stops_working_and_is_not_reissued(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        lesson = await make_lesson(db)
        headers = auth_headers(settings, lesson.student)
        chat = await make_chat(db, lesson.student)
        old = (await client.post(f"{API}/chat/sessions/{chat.id}/share", headers=headers)).json()["share_token"]
        await client.delete(f"{API}/chat/sessions/{chat.id}/share", headers=headers)
        assert (await client.get(f"{API}/shared/chats/{old}")).status_code == 404
        new = (await client.post(f"{API}/chat/sessions/{chat.id}/share", headers=headers)).json()["share_token"]
        assert new != old
