"""`twosigma settings get|set|rotate-key` against a scratch database."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet
from typer.testing import CliRunner

from tests.fixtures.database import create_scratch_database, drop_database
from twosigma.cli import app
from twosigma.config import get_settings

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()
SECRET = "sk-cli-secret-value-0000-wxyz"


@pytest.fixture
def cli(server_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    url = asyncio.run(create_scratch_database(server_url))
    monkeypatch.setenv("TWOSIGMA_DATABASE_URL", url)
    monkeypatch.setenv("TWOSIGMA_ENCRYPTION_KEYS", KEY_A)
    for name in ("TWOSIGMA_LLM_PROVIDER", "TWOSIGMA_LLM_OPENAI_API_KEY", "OPENAI_API_KEY", "TWOSIGMA_LLM_TEMPERATURE"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    yield runner
    get_settings.cache_clear()
    asyncio.run(drop_database(url))


def use_keys(monkeypatch: pytest.MonkeyPatch, *keys: str) -> None:
    monkeypatch.setenv("TWOSIGMA_ENCRYPTION_KEYS", ",".join(keys))
    get_settings.cache_clear()


class TestSettingsCommands:
    def test_set_then_get_prints_the_typed_value(self, cli: CliRunner) -> None:
        set_result = cli.invoke(app, ["settings", "set", "llm.temperature", "0.3", "--description", "cool"])
        assert set_result.exit_code == 0, set_result.output
        got = cli.invoke(app, ["settings", "get", "llm.temperature"])
        assert got.exit_code == 0, got.output
        assert "llm.temperature = 0.3  (stored)" in got.output

    def test_get_of_an_unstored_known_key_shows_the_effective_value_and_its_source(
        self, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        assert (
            'tutor.default_prompt_name = "General Protocol"  (default)'
            in cli.invoke(app, ["settings", "get", "tutor.default_prompt_name"]).output
        )
        monkeypatch.setenv("OPENAI_API_KEY", SECRET)
        output = cli.invoke(app, ["settings", "get", "llm.openai_api_key"]).output
        assert '"••••wxyz"  (env:OPENAI_API_KEY)' in output
        assert SECRET not in output

    def test_secret_is_masked_on_set_and_get(self, cli: CliRunner) -> None:
        set_result = cli.invoke(app, ["settings", "set", "llm.openai_api_key", SECRET])
        got = cli.invoke(app, ["settings", "get", "llm.openai_api_key"])
        for result in (set_result, got):
            assert result.exit_code == 0, result.output
            assert "••••wxyz" in result.output
            assert SECRET not in result.output

    def test_invalid_value_exits_1_with_the_reason(self, cli: CliRunner) -> None:
        result = cli.invoke(app, ["settings", "set", "llm.max_tokens", "many"])
        assert result.exit_code == 1
        assert "llm.max_tokens must be an integer" in result.output

    def test_rotate_key_moves_secrets_to_the_new_key(self, cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
        assert cli.invoke(app, ["settings", "set", "llm.openai_api_key", SECRET]).exit_code == 0
        assert cli.invoke(app, ["settings", "set", "custom.token", "abcdefghijklmnop", "--encrypt"]).exit_code == 0
        use_keys(monkeypatch, KEY_B, KEY_A)
        rotated = cli.invoke(app, ["settings", "rotate-key"])
        assert rotated.exit_code == 0, rotated.output
        assert "Re-encrypted 2 setting(s)" in rotated.output

        use_keys(monkeypatch, KEY_B)
        assert "••••wxyz" in cli.invoke(app, ["settings", "get", "llm.openai_api_key"]).output
        use_keys(monkeypatch, KEY_A)
        assert '"••••"' in cli.invoke(app, ["settings", "get", "llm.openai_api_key"]).output

    def test_without_the_variable_secrets_and_rotation_use_the_key_kept_in_the_data_dir(
        self, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("TWOSIGMA_ENCRYPTION_KEYS")
        get_settings.cache_clear()
        assert cli.invoke(app, ["settings", "set", "llm.openai_api_key", SECRET]).exit_code == 0
        result = cli.invoke(app, ["settings", "rotate-key"])
        assert result.exit_code == 0, result.output
        assert "Re-encrypted 1 setting(s)" in result.output
        assert "••••wxyz" in cli.invoke(app, ["settings", "get", "llm.openai_api_key"]).output
