"""Restart the PostgreSQL server under a running app, with requests in flight.

The test owns a SEPARATE embedded server (its own temp dir) and serves an app on it with uvicorn, exactly as
`twosigma serve` would (the lifespan builds the engine and starts the prompt-cache listener). While workers send
requests without pause, the server is stopped (fast shutdown: sessions are terminated), kept down, and started again
on the same data and socket directories. What must hold:
- no request hangs: each is bounded with asyncio.wait_for;
- while the server is down, requests fail fast with 503 in the error shape (`database_unavailable`, or `not_ready`
  from /health/ready);
- the app recovers by itself (pool_pre_ping), and the cache LISTEN connection is re-established: a NOTIFY sent
  after the restart still invalidates the cache.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.fixtures.database import embedded_server
from tests.fixtures.factories import auth_headers, make_member, make_university
from tests.fixtures.live_server import serve
from tests.reliability.pg_control import ServerControl
from tests.reliability.scratch import restored_logging
from twosigma.app import create_app
from twosigma.config import Settings
from twosigma.db import migrate
from twosigma.db.bootstrap import ensure_database
from twosigma.db.engine import make_engine, make_sessionmaker
from twosigma.enums import UserRole
from twosigma.kit.cache import CHANNEL
from twosigma.prompts.cache import PromptCache

API = "/api/v1"
PROMPT = "faults/greeting"
POOL_TIMEOUT = 2.0
REQUEST_BOUND = 15.0  # no request may take longer than this, whatever happens to the database
DOWN_SECONDS = 3.0
WORKERS = 4


@dataclass
class Sample:
    path: str
    started: float
    ended: float
    status: int | None  # None: it hung past REQUEST_BOUND
    code: str | None

    @property
    def latency(self) -> float:
        return self.ended - self.started


@dataclass
class Stage:
    url: str
    libpq: str
    control: ServerControl
    client: httpx.AsyncClient
    headers: dict[str, str]


@pytest.fixture(scope="module")
async def stage(settings: Settings) -> AsyncIterator[Stage]:
    with embedded_server() as server:
        await ensure_database(server, "faults")
        url = server.url("faults")
        app_settings = settings.model_copy(update={"database_url": url, "db_pool_timeout_seconds": POOL_TIMEOUT})
        engine = make_engine(url, app_settings)
        try:
            await migrate.upgrade(engine)
            async with make_sessionmaker(engine)() as db:
                admin = await make_member(db, await make_university(db), UserRole.PLATFORM_ADMIN)
                await db.commit()
        finally:
            await engine.dispose()
        libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        with restored_logging(), serve(create_app(app_settings)) as base_url:
            async with httpx.AsyncClient(base_url=base_url, timeout=REQUEST_BOUND) as client:
                yield Stage(url, libpq, ServerControl(server), client, auth_headers(app_settings, admin))


async def _version(stage: Stage) -> int:
    response = await stage.client.get(f"{API}/prompts/{PROMPT}", headers=stage.headers)
    assert response.status_code == 200, response.text
    version: int = response.json()["version"]
    return version


async def _worker(stage: Stage, paths: list[str], stop: asyncio.Event, samples: list[Sample]) -> None:
    for path in itertools.cycle(paths):
        if stop.is_set():
            return
        started = time.monotonic()
        try:
            response = await asyncio.wait_for(stage.client.get(path, headers=stage.headers), REQUEST_BOUND)
        except TimeoutError:
            samples.append(Sample(path, started, time.monotonic(), None, None))
            continue
        code = response.json()["error"]["code"] if response.status_code >= 400 else None
        samples.append(Sample(path, started, time.monotonic(), response.status_code, code))
        await asyncio.sleep(0.02)


async def _listener_connected(libpq: str) -> bool:
    """Is a backend other than the app's pool (application_name 'twosigma') and ours listening?"""
    conn = await asyncpg.connect(libpq)
    try:
        found = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND application_name <> 'twosigma' AND (query ILIKE 'LISTEN%' OR query = 'SELECT 1')"
        )
        return bool(found)
    finally:
        await conn.close()


async def _wait_for(predicate: Callable[[], Awaitable[bool]], within: float) -> float:
    """Seconds until `predicate()` holds (polled every 100 ms); fails after `within` seconds."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        try:
            if await predicate():
                return time.monotonic() - started
        except (OSError, asyncpg.PostgresError):
            pass
        await asyncio.sleep(0.1)
    raise AssertionError(f"not true within {within}s")


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


class TestDatabaseRestart:
    async def test_requests_fail_fast_while_the_server_is_down_and_the_app_recovers_by_itself(
        self, stage: Stage
    ) -> None:
        # Two versions; production on 1. Warm the app's cache.
        for text in ("Hello v1", "Hello v2"):
            created = await stage.client.post(
                f"{API}/prompts",
                json={"name": PROMPT, "prompt": text, "labels": ["production"] if text.endswith("1") else []},
                headers=stage.headers,
            )
            assert created.status_code == 201, created.text
        assert await _version(stage) == 1
        assert (await stage.client.get(f"{API}/health/ready")).status_code == 200

        samples: list[Sample] = []
        stop = asyncio.Event()
        paths = [f"{API}/users/me", f"{API}/prompts/{PROMPT}?resolve=false", f"{API}/courses", f"{API}/health/ready"]
        workers = [asyncio.create_task(_worker(stage, paths, stop, samples)) for _ in range(WORKERS)]
        await asyncio.sleep(0.5)
        await asyncio.to_thread(stage.control.stop)
        down_at = time.monotonic()
        await asyncio.sleep(DOWN_SECONDS)
        # The server accepts connections before `pg_ctl -w start` returns (it polls every 0.1 s): the window that
        # is certainly down ends when start is called, not when it returns.
        starting_at = time.monotonic()
        await asyncio.to_thread(stage.control.start)
        up_at = time.monotonic()

        async def first_success_after_restart() -> bool:
            return any(s.status == 200 and s.started >= up_at for s in samples)

        time_to_recover = await _wait_for(first_success_after_restart, REQUEST_BOUND)
        await asyncio.sleep(1.0)
        stop.set()
        await asyncio.gather(*workers)

        hung = [s for s in samples if s.status is None]
        assert hung == []
        unexpected = [s for s in samples if s.status not in (200, 503)]
        assert unexpected == [], unexpected
        failures = [s for s in samples if s.status == 503]
        assert {s.code for s in failures} <= {"database_unavailable", "not_ready"}
        while_down = [s for s in samples if s.started >= down_at and s.ended <= starting_at]
        assert while_down, "no request was made while the server was down"
        assert all(s.status == 503 for s in while_down), [s for s in while_down if s.status != 503]
        latencies = [s.latency for s in while_down]
        assert max(latencies) < POOL_TIMEOUT + 1.0
        # Once the first request succeeded, everything succeeds: no poisoned pool connections linger.
        first_ok = min(s.started for s in samples if s.status == 200 and s.started >= up_at)
        assert all(s.status == 200 for s in samples if s.started > first_ok + 0.5)

        # The listener is back; a NOTIFY sent now still empties the cache.
        time_to_listener = await _wait_for(lambda: _listener_connected(stage.libpq), 40.0) + time_to_recover
        assert await _version(stage) == 1  # cached again
        conn = await asyncpg.connect(stage.libpq)
        try:
            # Move production to v2 behind the app's back, without telling anyone: the cache keeps serving v1 ...
            await conn.execute(
                "UPDATE prompts SET labels = CASE WHEN version = 2 THEN array_append(labels, 'production')"
                " ELSE array_remove(labels, 'production') END WHERE name = $1",
                PROMPT,
            )
            assert await _version(stage) == 1
            # ... until the NOTIFY every prompt write sends.
            await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, PromptCache.payload)
        finally:
            await conn.close()

        async def fresh() -> bool:
            return await _version(stage) == 2

        time_to_fresh = await _wait_for(fresh, 5.0)
        print(  # noqa: T201 - the suite's figures
            f"\ndatabase restart: {len(samples)} requests by {WORKERS} workers, {len(while_down)} while down; "
            f"failing latency p50 {_percentile(latencies, 50) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms; "
            f"first success {time_to_recover:.2f}s after the server was back; listener back within "
            f"{time_to_listener:.2f}s; NOTIFY to fresh read {time_to_fresh * 1000:.0f} ms; hung: {len(hung)}"
        )
