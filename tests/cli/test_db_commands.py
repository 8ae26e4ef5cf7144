"""`twosigma db upgrade|downgrade|current` against a scratch database."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from tests.fixtures.database import create_scratch_database, drop_database
from twosigma.cli import app
from twosigma.config import get_settings


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
