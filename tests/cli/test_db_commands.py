"""`twosigma db upgrade|downgrade|current|status|backup|restore` against a scratch database."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from typer.testing import CliRunner

from tests.fixtures.database import create_scratch_database, drop_database
from twosigma.cli import app
from twosigma.config import get_settings
from twosigma.db import backup


@pytest.fixture
def scratch_url(server_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = asyncio.run(create_scratch_database(server_url))
    monkeypatch.setenv("TWOSIGMA_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()
    asyncio.run(drop_database(url))


class TestDbCommands:
    def test_upgrade_current_downgrade_round_trip(self, scratch_url: str) -> None:
        runner = CliRunner()
        before = runner.invoke(app, ["db", "current"])
        assert before.exit_code == 0, before.output
        assert "current: none" in before.output
        assert "behind head" in before.output

        upgraded = runner.invoke(app, ["db", "upgrade"])
        assert upgraded.exit_code == 0, upgraded.output
        at_head = runner.invoke(app, ["db", "current"])
        assert "(at head)" in at_head.output

        downgraded = runner.invoke(app, ["db", "downgrade", "base"])
        assert downgraded.exit_code == 0, downgraded.output
        assert "current: none" in runner.invoke(app, ["db", "current"]).output


class TestOnAnExternalDatabase:
    """`db status`, `db backup` and `db restore` on a configured URL (here: a scratch database of the test server)."""

    def test_status_backup_and_restore(self, scratch_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        runner = CliRunner()
        assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
        status = runner.invoke(app, ["db", "status"])
        assert status.exit_code == 0, status.output
        assert "external: postgresql+asyncpg://" in status.output
        assert "(at head)" in status.output

        dump = tmp_path / "external.dump"
        backed_up = runner.invoke(app, ["db", "backup", str(dump)])
        assert backed_up.exit_code == 0, backed_up.output
        asyncio.run(execute(scratch_url, "DROP TABLE feature_requests CASCADE"))
        refused = runner.invoke(app, ["db", "restore", str(dump)], input="n\n")
        assert refused.exit_code == 1
        assert "Nothing restored." in refused.output
        restored = runner.invoke(app, ["db", "restore", str(dump)], input="y\n")
        assert restored.exit_code == 0, restored.output
        assert "(at head)" in restored.output
        asyncio.run(execute(scratch_url, "SELECT count(*) FROM feature_requests"))  # back again

        # A restore that fails half-way (here: right after the schema was dropped) changes nothing.
        asyncio.run(execute(scratch_url, "CREATE TABLE restore_probe (id int)"))
        monkeypatch.setattr(backup, "REPLACE_SCHEMA", backup.REPLACE_SCHEMA + b"SELECT 1 / 0;\n")
        failed = runner.invoke(app, ["db", "restore", "--yes", str(dump)])
        assert failed.exit_code == 1, failed.output
        assert "Restore failed and was rolled back (nothing was changed)" in failed.output
        with pytest.raises(backup.BackupError, match=r"rolled back \(nothing was changed\): ERROR:  division by zero"):
            backup.restore(scratch_url, dump)
        asyncio.run(execute(scratch_url, "SELECT count(*) FROM restore_probe"))  # the schema was not dropped


async def execute(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def test_the_database_password_never_appears_on_a_command_line() -> None:
    """pg_dump, pg_restore and psql get the URL without its password (any user of the machine can read a command
    line); the password reaches the child in PGPASSWORD."""
    from twosigma.db import backup

    url = "postgresql+asyncpg://twosigma:s3cret-pw@db.example.edu:5432/twosigma"
    assert "s3cret-pw" not in backup.libpq_url(url)
    assert backup.libpq_url(url).startswith("postgresql://twosigma@db.example.edu:5432/twosigma")
    assert backup._environment(url)["PGPASSWORD"] == "s3cret-pw"
    assert "PGPASSWORD" not in backup._environment("postgresql+asyncpg://postgres@/postgres?host=/tmp/socket")
