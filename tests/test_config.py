from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from twosigma.config import Environment, Settings


def make(**kwargs: object) -> Settings:
    return Settings(_env_file=None, **kwargs)  # type: ignore[arg-type]


class TestSettings:
    def test_development_runs_with_defaults(self) -> None:
        settings = make()
        assert settings.environment is Environment.DEVELOPMENT
        assert settings.access_token_minutes == 30
        assert settings.refresh_token_days == 14

    def test_production_refuses_a_placeholder_secret(self) -> None:
        with pytest.raises(ValidationError, match="TWOSIGMA_SECRET_KEY"):
            make(environment="production", secret_key=SecretStr("changeme"), encryption_keys=["k"])

    @pytest.mark.parametrize("secret", [None, "", "   "])
    def test_production_refuses_a_missing_or_blank_secret(self, secret: str | None) -> None:
        with pytest.raises(ValidationError, match="TWOSIGMA_SECRET_KEY is missing"):
            make(environment="production", secret_key=secret, encryption_keys=["k"])

    def test_building_settings_has_no_secret_of_its_own_and_touches_no_file(self, tmp_path: object) -> None:
        settings = make(data_dir=tmp_path)
        assert settings.secret_key is None
        assert settings.encryption_keys == []
        assert list(settings.data_dir.iterdir()) == []

    def test_production_refuses_a_short_secret(self) -> None:
        with pytest.raises(ValidationError, match="at least 32"):
            make(environment="production", secret_key=SecretStr("short-but-not-placeholder"), encryption_keys=["k"])

    def test_production_needs_encryption_keys(self) -> None:
        with pytest.raises(ValidationError, match="TWOSIGMA_ENCRYPTION_KEYS"):
            make(environment="production", secret_key=SecretStr("x" * 48))

    def test_lists_are_read_from_comma_separated_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("TWOSIGMA_CORS_ORIGINS", "https://a.example, https://b.example")
        monkeypatch.setenv("TWOSIGMA_ENCRYPTION_KEYS", "k1,k2")
        settings = make()
        assert settings.cors_origins == ["https://a.example", "https://b.example"]
        assert [k.get_secret_value() for k in settings.encryption_keys] == ["k1", "k2"]

    def test_no_database_url_means_embedded(self) -> None:
        assert make().uses_embedded_database
        assert not make(database_url="postgresql+asyncpg://u@h/d").uses_embedded_database
