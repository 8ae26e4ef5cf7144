"""Every command's failure path, as the real process: a non-zero exit and ONE line saying why, never a traceback.

Most fail on a database that is not there (the configured URL points at a closed port); the others on their own
input. `doctor` is the exception to "one line": it reports every check, so it only has to fail without a traceback.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from tests.fixtures.smtp import free_port

UNREACHABLE = f"postgresql+asyncpg://nobody@127.0.0.1:{free_port()}/nothing"

# (arguments, what the one line says)
ON_AN_UNREACHABLE_DATABASE: list[tuple[list[str], str]] = [
    (["db", "upgrade"], "Error: ConnectionRefusedError"),
    (["db", "downgrade", "base"], "Error: ConnectionRefusedError"),
    (["db", "current"], "Error: ConnectionRefusedError"),
    (["db", "status"], "Database unreachable"),
    (["db", "backup", "{tmp}/x.dump"], "pg_dump failed"),
    (["db", "stop"], "not ours to stop"),
    (["admin", "create", "--email", "a@example.edu", "--password-stdin"], "Error: ConnectionRefusedError"),
    (["demo", "seed"], "Error: ConnectionRefusedError"),
    (["prompts", "export", "{tmp}/prompts.json"], "Error: ConnectionRefusedError"),
    (["settings", "get", "llm.provider"], "Error: ConnectionRefusedError"),
    (["settings", "set", "llm.provider", "openai"], "Error: ConnectionRefusedError"),
    (["settings", "rotate-key"], "Error: ConnectionRefusedError"),
    (["api-keys", "create", "--name", "ci"], "Error: ConnectionRefusedError"),
]
ON_BAD_INPUT: list[tuple[list[str], str]] = [
    (["db", "restore", "--yes", "{tmp}/missing.dump"], "No backup file at"),
    (["db", "backup", "{tmp}"], "is a folder"),
    (["prompts", "import", "{tmp}/missing.json"], "Cannot read"),
    (["api-keys", "create", "--name", " "], "The name must be 1 to 255 characters."),
    (["admin", "create", "--email", "a@example.edu", "--password", "x", "--password-stdin"], "not both"),
]


@pytest.fixture
def tmp() -> Iterator[Path]:
    import shutil
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="twosigma-fail-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def run(tmp: Path, args: list[str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWOSIGMA_")}
    env |= {
        "TWOSIGMA_DATA_DIR": str(tmp),
        "TWOSIGMA_DATABASE_URL": UNREACHABLE,
        "TWOSIGMA_SECRET_KEY": "failure-paths-secret-key-0123456789abcdef",
        "TWOSIGMA_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "COLUMNS": "60",  # a narrow terminal: the one line must not be wrapped into two
    }
    return subprocess.run(
        [sys.executable, "-m", "twosigma", *[arg.format(tmp=tmp) for arg in args]],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]


@pytest.mark.parametrize(
    ("args", "says"),
    ON_AN_UNREACHABLE_DATABASE + ON_BAD_INPUT,
    ids=lambda v: " ".join(v) if isinstance(v, list) else "",
)
def test_a_failing_command_says_why_in_one_line(tmp: Path, args: list[str], says: str) -> None:
    result = run(tmp, args, stdin="a-good-password-1\n")
    shown = lines(result)
    assert result.returncode != 0, shown
    assert "Traceback" not in result.stdout + result.stderr
    assert len(shown) == 1, shown
    assert says in shown[0]


def test_serve_on_a_taken_port(tmp: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = run(tmp, ["serve", "--port", str(taken.getsockname()[1])])
    assert result.returncode == 1
    assert len(lines(result)) == 1
    assert "--port" in lines(result)[0]


def test_doctor_fails_without_a_traceback(tmp: Path) -> None:
    result = run(tmp, ["doctor"])
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert any(line.startswith("✗ Database") for line in lines(result))
