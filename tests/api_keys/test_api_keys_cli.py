"""`twosigma api-keys create --name NAME [--scope SCOPE]…` against a scratch database."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from tests.fixtures.database import create_scratch_database, drop_database
from twosigma.cli import app
from twosigma.config import Settings, get_settings
from twosigma.db.engine import make_engine


@pytest.fixture
def scratch_url(server_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An empty database (the command migrates it itself)."""
    url = asyncio.run(create_scratch_database(server_url))
    monkeypatch.setenv("TWOSIGMA_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()
    asyncio.run(drop_database(url))


def stored_scopes(url: str, settings: Settings, public_key: str) -> list[str]:
    async def read() -> list[str]:
        engine = make_engine(url, settings)
        try:
            async with engine.connect() as conn:
                stmt = text("SELECT scopes FROM api_keys WHERE public_key = :public_key")
                scopes: list[str] = (await conn.execute(stmt, {"public_key": public_key})).scalar_one()
                return scopes
        finally:
            await engine.dispose()

    return asyncio.run(read())


def public_key_of(output: str) -> str:
    return next(line.split(": ", 1)[1] for line in output.splitlines() if line.startswith("public_key: "))


class TestCreateWithScopes:
    def test_repeated_scope_options_are_stored_and_printed(self, scratch_url: str, settings: Settings) -> None:
        runner = CliRunner()
        made = runner.invoke(
            app, ["api-keys", "create", "--name", "ci", "--scope", "prompts:write", "--scope", "prompts:deploy"]
        )
        assert made.exit_code == 0, made.output
        assert "scopes: prompts:read prompts:write prompts:deploy" in made.output
        assert stored_scopes(scratch_url, settings, public_key_of(made.output)) == [
            "prompts:read",
            "prompts:write",
            "prompts:deploy",
        ]

        plain = runner.invoke(app, ["api-keys", "create", "--name", "reader"])
        assert plain.exit_code == 0, plain.output
        assert "scopes: prompts:read" in plain.output
        assert stored_scopes(scratch_url, settings, public_key_of(plain.output)) == ["prompts:read"]

        unknown = runner.invoke(app, ["api-keys", "create", "--name", "odd", "--scope", "prompts:admin"])
        assert unknown.exit_code == 2
        assert "prompts:admin" in unknown.output
