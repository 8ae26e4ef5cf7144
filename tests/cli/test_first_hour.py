"""What an operator meets first on the command line, through the real `twosigma` process: a taken port reported at
once (before migrations or the embedded server), and an administrator's password asked for in a terminal instead
of typed on the command line."""

from __future__ import annotations

import os
import pty
import select
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.cli.test_serve import install_env, run_command


def output(result: subprocess.CompletedProcess[str]) -> str:
    return " ".join((result.stdout + result.stderr).split())


class TestPortInUse:
    def test_a_taken_port_is_one_line_before_anything_starts(self, data_dir: Path) -> None:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            started = time.monotonic()
            result = run_command(data_dir, "serve", "--port", str(port))
            elapsed = time.monotonic() - started
        assert result.returncode == 1
        lines = result.stdout.strip().splitlines()
        assert lines[-1] == (
            f"Port {port} on 127.0.0.1 is already in use: stop what holds it, or choose another with --port."
        )
        assert "Traceback" not in output(result)
        # Checked first: no embedded PostgreSQL was created, no migration ran.
        assert not (data_dir / "pgdata").exists()
        assert elapsed < 30  # a generous bound for a loaded machine; the point is pgdata above


# Click writes the prompt, then getpass turns echo off (flushing what was typed early) and writes one space: only
# after that space is it safe to type.
ACCOUNT_PROMPT = "Password for the new account: "
REPEAT_PROMPT = "Repeat the password: "


class Terminal:
    """The master side of a pseudo-terminal: what the child wrote, read up to a wanted text; what came after it
    stays for the next wait (two prompts often arrive in one read)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = b""
        self.transcript = ""  # everything read so far

    def _fill(self, deadline: float) -> bool:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        ready, _, _ = select.select([self.fd], [], [], remaining)
        if not ready:
            return False
        try:
            chunk = os.read(self.fd, 1024)
        except OSError:  # the child closed the terminal
            return False
        self.buffer += chunk
        return bool(chunk)

    def read_until(self, wanted: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while wanted.encode() not in self.buffer:
            assert self._fill(deadline), f"never saw {wanted!r} in {self.buffer.decode(errors='replace')!r}"
        before, _, self.buffer = self.buffer.partition(wanted.encode())
        self.transcript += before.decode(errors="replace") + wanted
        return before.decode(errors="replace") + wanted

    def read_to_the_end(self, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while self._fill(deadline):
            pass
        rest, self.buffer = self.buffer, b""
        self.transcript += rest.decode(errors="replace")
        return rest.decode(errors="replace")

    def write(self, text: str) -> None:
        os.write(self.fd, text.encode())


def _run_in_terminal(data_dir: Path, *args: str) -> tuple[int, Terminal]:
    """`twosigma ARGS` with a pseudo-terminal as its controlling terminal; (pid, the terminal's master side)."""
    pid, fd = pty.fork()
    if pid == 0:  # the child
        env = install_env(data_dir)
        os.execve(sys.executable, [sys.executable, "-m", "twosigma", *args], env)
    return pid, Terminal(fd)


class TestAdminPassword:
    def test_asked_twice_without_echo_in_a_terminal(self, data_dir: Path) -> None:
        pid, terminal = _run_in_terminal(data_dir, "admin", "create", "--email", "root@example.edu")
        terminal.read_until(ACCOUNT_PROMPT)
        terminal.write("first-try-password-1\n")
        terminal.read_until(REPEAT_PROMPT)
        terminal.write("a-typo-password-1\n")
        terminal.read_until("differ")
        terminal.read_until(ACCOUNT_PROMPT)
        terminal.write("the-real-password-1\n")
        terminal.read_until(REPEAT_PROMPT)
        terminal.write("the-real-password-1\n")
        rest = terminal.read_to_the_end()
        _, status = os.waitpid(pid, 0)
        os.close(terminal.fd)
        code = os.waitstatus_to_exitcode(status)
        assert code == 0, rest
        assert "Created root@example.edu" in rest
        for typed in ("first-try-password-1", "a-typo-password-1", "the-real-password-1"):
            assert typed not in terminal.transcript  # never echoed
        assert "Warning" not in rest
        # The password that was typed twice is the one that signs in.
        login = subprocess.run(
            [sys.executable, "-c", CHECK_PASSWORD, "root@example.edu", "the-real-password-1"],
            env=install_env(data_dir),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert login.stdout.strip() == "True", login.stdout + login.stderr

    def test_password_stdin_and_the_warning_on_password(self, data_dir: Path) -> None:
        piped = subprocess.run(
            [sys.executable, "-m", "twosigma", "admin", "create", "--email", "a@example.edu", "--password-stdin"],
            input="piped-password-123\n",
            env=install_env(data_dir),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert piped.returncode == 0, output(piped)
        assert "Warning" not in piped.stderr

        flagged = run_command(data_dir, "admin", "create", "--email", "b@example.edu", "--password", "flag-pass-123")
        assert flagged.returncode == 0, output(flagged)
        assert "Warning: --password leaves the password in your shell history and the process list" in output(flagged)

    def test_without_a_terminal_and_without_a_password_it_says_how(self, data_dir: Path) -> None:
        result = subprocess.run(
            [sys.executable, "-m", "twosigma", "admin", "create", "--email", "c@example.edu"],
            stdin=subprocess.DEVNULL,
            env=install_env(data_dir),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 1
        assert "--password-stdin" in output(result)
        assert "Traceback" not in output(result)
        both = run_command(
            data_dir, "admin", "create", "--email", "c@example.edu", "--password", "x", "--password-stdin"
        )
        assert both.returncode == 1
        assert "not both" in output(both)


CHECK_PASSWORD = """
import sys
from sqlalchemy import select
import twosigma.models
from twosigma.auth.passwords import verify_password
from twosigma.config import get_settings
from twosigma.db.bootstrap import run_in_session
from twosigma.users.models import User

async def check(session):
    user = (await session.execute(select(User).where(User.email == sys.argv[1]))).scalar_one()
    return await verify_password(sys.argv[2], user.password_hash, 4)

print(run_in_session(get_settings(), check))
"""
