from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from twosigma.db.embedded import asyncpg_url_from_uri, prune_dead_handles


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


class TestPruneDeadHandles:
    def test_dead_pids_are_removed_and_live_ones_kept(self, tmp_path: Path) -> None:
        live = os.getppid()
        gone = dead_pid()
        (tmp_path / ".handle_pids.json").write_text(json.dumps([live, gone]))
        assert prune_dead_handles(tmp_path) == [gone]
        assert json.loads((tmp_path / ".handle_pids.json").read_text()) == [live]

    def test_missing_handle_file_is_fine(self, tmp_path: Path) -> None:
        assert prune_dead_handles(tmp_path) == []

    def test_corrupt_handle_file_is_discarded(self, tmp_path: Path) -> None:
        (tmp_path / ".handle_pids.json").write_text("{not json")
        assert prune_dead_handles(tmp_path) == []
        assert not (tmp_path / ".handle_pids.json").exists()


class TestUrlConversion:
    def test_socket_uri_becomes_asyncpg_url(self) -> None:
        url = asyncpg_url_from_uri("postgresql://postgres:@/postgres?host=/tmp/x/pgdata", "twosigma")
        assert url == "postgresql+asyncpg://postgres@/twosigma?host=/tmp/x/pgdata"

    def test_tcp_uri_becomes_asyncpg_url(self) -> None:
        url = asyncpg_url_from_uri("postgresql://postgres:@localhost:5433/postgres")
        assert url == "postgresql+asyncpg://postgres@localhost:5433/postgres"
