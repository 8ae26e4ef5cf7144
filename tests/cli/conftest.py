"""Fixtures of the command-line tests that run `twosigma` as real processes."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """A data directory of the test's own (its own embedded PostgreSQL), under /tmp: as root the wheel opens up the
    parent folders of its data dir. Any server left in it is killed afterwards."""
    path = Path(tempfile.mkdtemp(prefix="twosigma-serve-", dir="/tmp"))
    yield path
    for proc in psutil.process_iter(attrs=["name", "cmdline"]):
        if proc.info["name"] == "postgres" and str(path) in " ".join(proc.info["cmdline"] or []):
            proc.kill()
    shutil.rmtree(path, ignore_errors=True)
