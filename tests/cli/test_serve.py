"""`twosigma serve` on a fresh data dir: embedded PostgreSQL, migrated, ready; stopped on shutdown."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

READY_TIMEOUT_SECONDS = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def data_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="twosigma-serve-", dir="/tmp"))
    yield path
    for proc in psutil.process_iter(attrs=["name", "cmdline"]):
        if proc.info["name"] == "postgres" and str(path) in " ".join(proc.info["cmdline"] or []):
            proc.kill()
    shutil.rmtree(path, ignore_errors=True)


def start_serve(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWOSIGMA_")}
    env["TWOSIGMA_DATA_DIR"] = str(data_dir)
    with (data_dir / f"serve-{port}.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "twosigma", "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def wait_ready(port: int, proc: subprocess.Popen[bytes]) -> dict[str, str]:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        assert proc.poll() is None, "serve exited early"
        try:
            response = httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=2)
            if response.status_code == 200:
                body: dict[str, str] = response.json()
                return body
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise AssertionError("server did not become ready")


def postgres_running(data_dir: Path) -> bool:
    return any(
        proc.info["name"] == "postgres" and str(data_dir) in " ".join(proc.info["cmdline"] or [])
        for proc in psutil.process_iter(attrs=["name", "cmdline"])
    )


def wait_until(predicate: object, timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.2)
    return False


class TestServe:
    def test_fresh_data_dir_serves_ready_and_stops_postgres_on_shutdown(self, data_dir: Path) -> None:
        port = free_port()
        proc = start_serve(data_dir, port)
        try:
            assert wait_ready(port, proc) == {"status": "ready", "database": "ok", "migrations": "head"}
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=30)
        assert wait_until(lambda: not postgres_running(data_dir))

    def test_a_killed_server_leaves_postgres_that_the_next_start_adopts_and_stops(self, data_dir: Path) -> None:
        port = free_port()
        first = start_serve(data_dir, port)
        wait_ready(port, first)
        first.kill()
        first.wait(timeout=10)
        assert postgres_running(data_dir)
        handle_file = data_dir / "pgdata" / ".handle_pids.json"
        assert first.pid in json.loads(handle_file.read_text())

        second = start_serve(data_dir, port)
        try:
            wait_ready(port, second)
            assert first.pid not in json.loads(handle_file.read_text())
        finally:
            second.send_signal(signal.SIGINT)
            second.wait(timeout=30)
        assert wait_until(lambda: not postgres_running(data_dir))
