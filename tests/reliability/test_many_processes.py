"""Two `twosigma serve` processes on one database: what one writes, the other serves at once.

Both are real subprocesses (the CLI, its migration and its lifespan with the prompt-cache listener) on a scratch
database of the session's server. With Redis reachable on 127.0.0.1:6379 they also share their rate limits
(TWOSIGMA_REDIS_URL) under a key prefix of this run only (TWOSIGMA_REDIS_KEY_PREFIX); those keys, and only
those, are deleted at the end.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis

from tests.fakes import FakeAnthropic
from tests.fixtures.factories import DEFAULT_PASSWORD, auth_headers, grant_role, make_university, make_user
from tests.fixtures.tutor import make_chat, make_lesson
from tests.reliability.scratch import scratch_database
from twosigma.config import Settings
from twosigma.db.engine import make_engine, make_sessionmaker
from twosigma.enums import UserRole

API = "/api/v1"
REDIS_URL = "redis://127.0.0.1:6379/0"
LOGIN_LIMIT = 6
RUN = uuid.uuid4().hex[:10]
KEY_PREFIX = f"twosigma-test-{RUN}"  # every Redis key of this run starts with it; they are deleted at the end
FIGURES: list[str] = []


def _redis_reachable() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


REDIS = _redis_reachable()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Pair:
    a: httpx.AsyncClient
    b: httpx.AsyncClient
    settings: Settings
    url: str


def _spawn(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    twosigma = Path(sys.executable).with_name("twosigma")
    with log.open("wb") as out:
        return subprocess.Popen(
            [str(twosigma), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


async def _ready(client: httpx.AsyncClient, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"twosigma serve exited; see {log}")
        try:
            if (await client.get("/health/ready")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError(f"twosigma serve did not become ready; see {log}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@pytest.fixture(scope="module")
def _fake_llm(_fake_anthropic_server: FakeAnthropic) -> FakeAnthropic:
    _fake_anthropic_server.reset()
    return _fake_anthropic_server


@pytest.fixture(scope="module")
async def pair(
    server_url: str, settings: Settings, _fake_llm: FakeAnthropic, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Pair]:
    logs = tmp_path_factory.mktemp("serve")
    async with scratch_database(server_url, settings) as url:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("TWOSIGMA_") and not key.startswith("PYTEST")
        } | {
            "TWOSIGMA_ENVIRONMENT": "test",
            "TWOSIGMA_DATABASE_URL": url,
            "TWOSIGMA_SECRET_KEY": settings.secret_key.get_secret_value(),
            "TWOSIGMA_ENCRYPTION_KEYS": ",".join(k.get_secret_value() for k in settings.encryption_keys),
            "TWOSIGMA_BCRYPT_ROUNDS": "4",
            "TWOSIGMA_LOGIN_ATTEMPTS_PER_MINUTE": str(LOGIN_LIMIT),
            "TWOSIGMA_LOG_LEVEL": "WARNING",
            "TWOSIGMA_LLM_PROVIDER": "anthropic",
            "TWOSIGMA_LLM_ANTHROPIC_API_KEY": "sk-ant-processes-0123456789",
            "TWOSIGMA_LLM_ANTHROPIC_BASE_URL": _fake_llm.url,
            "TWOSIGMA_LLM_DEFAULT_MODEL": "claude-processes-test",
        }
        if REDIS:
            env["TWOSIGMA_REDIS_URL"] = REDIS_URL
            env["TWOSIGMA_REDIS_KEY_PREFIX"] = KEY_PREFIX
        ports = (_free_port(), _free_port())
        processes: list[subprocess.Popen[bytes]] = []
        try:
            async with (
                httpx.AsyncClient(base_url=f"http://127.0.0.1:{ports[0]}", timeout=30) as a,
                httpx.AsyncClient(base_url=f"http://127.0.0.1:{ports[1]}", timeout=30) as b,
            ):
                # One after the other: the first migrates and installs the built-in prompt, the second finds both.
                for port, client in zip(ports, (a, b), strict=True):
                    log = logs / f"serve-{port}.log"
                    processes.append(_spawn(env, port, log))
                    await _ready(client, processes[-1], log)
                yield Pair(a, b, settings, url)
        finally:
            for process in processes:
                _stop(process)
            if REDIS:
                client = redis.Redis.from_url(REDIS_URL)
                keys = list(client.scan_iter(match=f"{KEY_PREFIX}*"))
                if keys:
                    client.delete(*keys)
                client.close()
    print("\nmany-processes figures:\n" + "\n".join(f"  {line}" for line in FIGURES))  # noqa: T201


async def _admin_headers(pair: Pair) -> dict[str, str]:
    engine = make_engine(pair.url, pair.settings)
    try:
        async with make_sessionmaker(engine)() as db:
            admin = await make_user(db)
            await grant_role(db, admin, await make_university(db), UserRole.PLATFORM_ADMIN)
            await db.commit()
            return auth_headers(pair.settings, admin)
    finally:
        await engine.dispose()


class TestPromptsAcrossProcesses:
    async def test_a_version_written_through_one_process_is_served_fresh_by_the_other(self, pair: Pair) -> None:
        headers = await _admin_headers(pair)
        name = f"processes/{RUN}"
        created = await pair.a.post(
            f"{API}/prompts", json={"name": name, "prompt": "v1", "labels": ["production"]}, headers=headers
        )
        assert created.status_code == 201, created.text
        assert (await pair.b.get(f"{API}/prompts/{name}", headers=headers)).json()["version"] == 1  # B caches v1

        second = await pair.a.post(
            f"{API}/prompts", json={"name": name, "prompt": "v2", "labels": ["production"]}, headers=headers
        )
        assert second.status_code == 201
        written = time.monotonic()
        reads = 0
        while True:
            reads += 1
            served = (await pair.b.get(f"{API}/prompts/{name}", headers=headers)).json()
            if served["version"] == 2 or time.monotonic() - written > 2:
                break
            await asyncio.sleep(0.01)
        FIGURES.append(
            f"prompt written via A, fresh via B after {(time.monotonic() - written) * 1000:.0f} ms ({reads} read(s))"
        )
        assert (served["version"], served["prompt"]) == (2, "v2")


class TestSettingsAcrossProcesses:
    async def test_a_setting_changed_through_one_process_applies_in_the_other(self, pair: Pair) -> None:
        headers = await _admin_headers(pair)
        engine = make_engine(pair.url, pair.settings)
        try:
            async with make_sessionmaker(engine)() as db:
                lesson = await make_lesson(db)
                # An id of its own: the per-user limiter keys (in Redis, shared between runs) carry it.
                chat = await make_chat(db, lesson.student, content_item_id=lesson.item.id)
                await db.commit()
                student = auth_headers(pair.settings, lesson.student)
        finally:
            await engine.dispose()
        put = await pair.a.put(
            f"{API}/admin/settings/tutor.messages_per_minute",
            json={"value": 1, "is_encrypted": False, "description": "set through A"},
            headers=headers,
        )
        assert put.status_code == 200, put.text
        url = f"{API}/chat/sessions/{chat.id}/messages"
        first = await pair.b.post(url, json={"content": "one"}, headers=student)
        second = await pair.b.post(url, json={"content": "two"}, headers=student)
        assert first.status_code == 200, first.text
        assert second.status_code == 429, second.text
        assert (
            await pair.a.delete(f"{API}/admin/settings/tutor.messages_per_minute", headers=headers)
        ).status_code == 204


@pytest.mark.skipif(not REDIS, reason="Redis is not reachable on 127.0.0.1:6379 (the SPEC's CI machine runs it)")
class TestSharedRateLimits:
    async def test_login_attempts_split_across_both_processes_hit_429_at_the_shared_threshold(self, pair: Pair) -> None:
        email = f"limits-{RUN}@example.edu"
        engine = make_engine(pair.url, pair.settings)
        try:
            async with make_sessionmaker(engine)() as db:
                await make_user(db, email=email)
                await db.commit()
        finally:
            await engine.dispose()
        statuses = []
        for attempt in range(LOGIN_LIMIT + 2):
            client = pair.a if attempt % 2 == 0 else pair.b
            wrong = {"email": email, "password": f"wrong-{DEFAULT_PASSWORD}"}
            statuses.append((await client.post(f"{API}/auth/login", json=wrong)).status_code)
        FIGURES.append(f"login attempts alternating A/B with limit {LOGIN_LIMIT}/minute: {statuses}")
        assert statuses == [401] * LOGIN_LIMIT + [429, 429]
