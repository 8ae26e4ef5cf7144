"""`twosigma db status|stop|backup|restore` as an operator runs them: real processes on a data directory of their
own, with its own embedded PostgreSQL (never the test session's server)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from tests.cli.test_serve import (
    install_env,
    postgres_running,
    process_alive,
    run_command,
    wait_until,
)
from twosigma.db.embedded import EmbeddedPostgres, server_status

HOLD = """
import asyncio, os, sys, time
from pathlib import Path
from twosigma.db.bootstrap import ensure_database
from twosigma.db.embedded import EmbeddedPostgres
server = EmbeddedPostgres(Path(sys.argv[1]))
server.start()
asyncio.run(ensure_database(server, "twosigma"))
print("started", flush=True)
if sys.argv[2] == "die":
    os._exit(9)  # like kill -9: no cleanup, the server stays up with a dead handle
time.sleep(120)
"""


def hold_server(data_dir: Path, mode: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(data_dir), mode], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert proc.stdout is not None
    started = proc.stdout.readline().strip()
    proc.stdout.close()
    assert started == "started"
    return proc


def emails(data_dir: Path) -> list[str]:
    server = EmbeddedPostgres(data_dir)
    server.start()
    try:
        url = server.url("twosigma").replace("postgresql+asyncpg", "postgresql")

        async def read() -> list[str]:
            conn = await asyncpg.connect(url)
            try:
                return [row["email"] for row in await conn.fetch("SELECT email FROM users ORDER BY email")]
            finally:
                await conn.close()

        return asyncio.run(read())
    finally:
        server.stop()


def output(result: subprocess.CompletedProcess[str]) -> str:
    return " ".join((result.stdout + result.stderr).split())


def create_admin(data_dir: Path, email: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "twosigma", "admin", "create", "--email", email, "--password-stdin"],
        input="a-good-password-1\n",
        env=install_env(data_dir),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, output(result)


class TestBackupAndRestore:
    def test_a_backup_restores_the_database_as_it_was(self, data_dir: Path) -> None:
        fresh = run_command(data_dir, "db", "status")
        assert fresh.returncode == 0, output(fresh)
        assert "stopped (started to read the revision, then stopped again)" in output(fresh)
        assert "none (empty database)" in output(fresh)

        create_admin(data_dir, "kept@example.edu")
        status = run_command(data_dir, "db", "status")
        text = output(status)
        assert "embedded PostgreSQL 18" in text
        assert str(data_dir / "pgdata") in text
        assert "(at head)" in text
        assert " MiB database" in text

        backup_file = data_dir / "before.dump"
        backed_up = run_command(data_dir, "db", "backup", str(backup_file))
        assert backed_up.returncode == 0, output(backed_up)
        assert f"into {backup_file}" in output(backed_up)
        assert backup_file.stat().st_size > 1000
        assert not (data_dir / "before.dump.partial").exists()

        create_admin(data_dir, "after-the-backup@example.edu")
        assert emails(data_dir) == ["after-the-backup@example.edu", "kept@example.edu"]

        restored = run_command(data_dir, "db", "restore", "--yes", str(backup_file))
        assert restored.returncode == 0, output(restored)
        assert "Restored" in output(restored)
        assert "(at head)" in output(restored)
        assert emails(data_dir) == ["kept@example.edu"]
        assert not postgres_running(data_dir)

    def test_restore_refuses_a_file_that_is_no_backup_and_changes_nothing(self, data_dir: Path) -> None:
        create_admin(data_dir, "kept@example.edu")
        bogus = data_dir / "notes.txt"
        bogus.write_text("not a dump")
        result = run_command(data_dir, "db", "restore", "--yes", str(bogus))
        assert result.returncode == 1
        assert "is not a backup made by `twosigma db backup`" in output(result)
        assert "Traceback" not in output(result)
        missing = run_command(data_dir, "db", "restore", "--yes", str(data_dir / "nope.dump"))
        assert missing.returncode == 1
        assert "No backup file at" in output(missing)
        assert emails(data_dir) == ["kept@example.edu"]

    def test_backup_into_a_missing_folder_fails_in_one_line(self, data_dir: Path) -> None:
        result = run_command(data_dir, "db", "backup", str(data_dir / "no" / "such" / "folder" / "x.dump"))
        assert result.returncode == 1
        assert "No folder" in output(result)
        assert "Traceback" not in output(result)


class TestStop:
    def test_a_leftover_server_is_reported_and_stopped(self, data_dir: Path) -> None:
        holder = hold_server(data_dir, "die")
        holder.wait(timeout=10)
        status = server_status(data_dir)
        assert status.running
        assert status.pid is not None
        pid = status.pid

        shown = run_command(data_dir, "db", "status")
        assert shown.returncode == 0, output(shown)
        assert f"running, pid {pid}" in output(shown)
        assert "a leftover: `twosigma db stop` stops it" in output(shown)
        assert process_alive(pid)  # reading the status did not stop it

        stopped = run_command(data_dir, "db", "stop")
        assert stopped.returncode == 0, output(stopped)
        assert f"Stopped the embedded PostgreSQL (pid {pid})" in output(stopped)
        assert wait_until(lambda: not process_alive(pid))
        again = run_command(data_dir, "db", "stop")
        assert again.returncode == 0
        assert "No embedded PostgreSQL is running" in output(again)

    def test_a_server_in_use_is_stopped_only_with_force(self, data_dir: Path) -> None:
        holder = hold_server(data_dir, "hold")
        try:
            pid = server_status(data_dir).pid
            assert pid is not None
            refused = run_command(data_dir, "db", "stop")
            assert refused.returncode == 1
            assert f"is in use by twosigma process(es) {holder.pid}" in output(refused)
            assert "--force" in output(refused)
            assert process_alive(pid)
            forced = run_command(data_dir, "db", "stop", "--force")
            assert forced.returncode == 0, output(forced)
            assert wait_until(lambda: not process_alive(pid))
        finally:
            holder.kill()
            holder.wait(timeout=10)

    def test_an_external_database_is_not_ours_to_stop(self, data_dir: Path) -> None:
        result = run_command(data_dir, "db", "stop", TWOSIGMA_DATABASE_URL="postgresql+asyncpg://x@127.0.0.1:9/x")
        assert result.returncode == 1
        assert "not ours to stop" in output(result)


@pytest.mark.parametrize("args", [["db", "status"], ["db", "backup", "/tmp/x.dump"]], ids=" ".join)
def test_an_unreachable_external_database_is_one_line(data_dir: Path, args: list[str]) -> None:
    result = run_command(data_dir, *args, TWOSIGMA_DATABASE_URL="postgresql+asyncpg://x@127.0.0.1:9/x")
    assert result.returncode == 1, output(result)
    assert "Traceback" not in output(result)
    assert len(result.stdout.strip().splitlines()) == 1, result.stdout
