"""Typed configuration: every knob is a `TWOSIGMA_*` environment variable (or a line in `.env`)."""

from __future__ import annotations

import os
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated

import platformdirs
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from twosigma.kept_secrets import KeptSecretsError, load_or_create_kept_secrets, read_kept_secrets

# Values people paste from examples; production refuses them. (There is no development key: an install without a
# secret generates its own and keeps it in its data directory, kept_secrets.py.)
PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "secret"})


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class ConfigError(ValueError):
    """Configuration that must stop start-up (a missing production secret, say)."""


def default_data_dir() -> Path:
    # As root the embedded server makes the parent folders of its data dir world-readable, so keep it out of
    # root's home folder.
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return Path("/var/lib/twosigma")
    return Path(platformdirs.user_data_dir("twosigma", appauthor=False))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TWOSIGMA_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    environment: Environment = Environment.DEVELOPMENT
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL (postgresql+asyncpg://...). Unset: an embedded PostgreSQL is started.",
    )
    data_dir: Path = Field(default_factory=default_data_dir)
    secret_key: SecretStr | None = Field(
        default=None,
        description="Signs JWTs and keys API key hashes. Unset outside production: generated and kept in data_dir.",
    )
    encryption_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="Fernet keys for secret settings (the first encrypts). Outside production the key kept in "
        "data_dir is always appended, so what it encrypted stays readable.",
    )
    access_token_minutes: int = Field(default=30, ge=1)
    refresh_token_days: int = Field(default=14, ge=1)
    bcrypt_rounds: int = Field(default=12, ge=4, le=16, description="bcrypt cost; 12 in production.")
    login_attempts_per_minute: int = Field(default=10, ge=1, description="Per email and per client address.")
    registrations_per_minute: int = Field(
        default=20,
        ge=1,
        description="Sign-ups per client address (both sign-up routes together); a campus behind one NAT shares it.",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    redis_url: str | None = None
    redis_key_prefix: str = Field(
        default="twosigma", min_length=1, description="Starts every rate-limit key in Redis (share one Redis safely)."
    )
    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=10, ge=0)
    db_pool_timeout_seconds: float = Field(default=10.0, gt=0)
    db_statement_timeout_ms: int = Field(default=30_000, ge=0)
    public_base_url: str = Field(
        default="http://localhost:8000",
        description="Where this server is reached; mailed links (reset, verification, invitations) start with it.",
    )
    web_base_url: str | None = Field(
        default=None,
        description="A separate web client's base URL: when set, mailed links point there instead of this server, "
        "and single sign-on finishes at {web_base_url}/sso/complete?code=…",
    )
    log_level: str = "INFO"
    log_json: bool = Field(default=True, description="One JSON object per log line (false: plain text).")
    max_body_bytes: int = Field(
        default=1_048_576,
        ge=300_000,
        description="Largest request body accepted (413 beyond); must exceed data_json's 256 KiB.",
    )
    max_json_depth: int = Field(default=64, ge=8, le=1000, description="Deepest JSON nesting accepted (422 beyond).")
    metrics_enabled: bool = Field(default=True, description="Serve GET /metrics (Prometheus text format).")
    metrics_token: SecretStr | None = Field(
        default=None, description="When set, GET /metrics needs `Authorization: Bearer <token>`."
    )
    metrics_public: bool = Field(
        default=False,
        description="Open GET /metrics to anyone when no metrics_token is set (otherwise /metrics answers 401).",
    )
    shutdown_timeout_seconds: float = Field(
        default=20.0, ge=0, description="How long `twosigma serve` lets in-flight requests (tutor streams) finish."
    )

    @field_validator("encryption_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("secret_key", "metrics_token", mode="after")
    @classmethod
    def _blank_secret_is_none(cls, value: SecretStr | None) -> SecretStr | None:
        # `TWOSIGMA_X=` means unset: an empty signing key would sign forgeable tokens, and an empty metrics token
        # would be matched by `Authorization: Bearer `.
        if value is not None and not value.get_secret_value().strip():
            return None
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _production_needs_real_secrets(self) -> Settings:
        if self.environment is Environment.PRODUCTION:
            if self.secret_key is None or self.secret_key.get_secret_value().strip().lower() in PLACEHOLDER_SECRETS:
                raise ConfigError(
                    "TWOSIGMA_SECRET_KEY is missing or a placeholder; production needs a random secret "
                    '(e.g. python -c "import secrets; print(secrets.token_urlsafe(48))").'
                )
            if len(self.secret_key.get_secret_value()) < 32:
                raise ConfigError("TWOSIGMA_SECRET_KEY must be at least 32 characters in production.")
            if not self.encryption_keys:
                raise ConfigError(
                    "TWOSIGMA_ENCRYPTION_KEYS is missing; production needs at least one Fernet key "
                    '(python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())").'
                )
        return self

    @property
    def links_base_url(self) -> str:
        """The base of every link a mail carries: the web client's when one is configured, else this server's."""
        return (self.web_base_url or self.public_base_url).rstrip("/")

    @property
    def uses_embedded_database(self) -> bool:
        return not self.database_url

    def signing_secret(self) -> str:
        """The secret that signs tokens and keys API key hashes."""
        if self.secret_key is None:
            # Only a Settings built by hand can get here: load_settings() always fills the secret (or refuses).
            raise ConfigError("No secret key: build settings with twosigma.config.load_settings().")
        return self.secret_key.get_secret_value()


def with_kept_secrets(settings: Settings) -> Settings:
    """`settings` with the secrets the environment leaves out taken from the data directory's kept secrets
    (generated on first use), and the kept Fernet key appended to the decrypting keys.

    Production is returned as it is: it runs on exactly the secrets it was given (its validator has already
    refused missing ones). Elsewhere a fully configured install with no kept file is left alone too, so it never
    writes to its data directory for nothing.
    """
    if settings.environment is Environment.PRODUCTION:
        return settings
    try:
        if settings.secret_key is not None and settings.encryption_keys:
            kept = read_kept_secrets(settings.data_dir)
            if kept is None:
                return settings
        else:
            kept = load_or_create_kept_secrets(settings.data_dir)
    except (KeptSecretsError, OSError) as exc:
        raise ConfigError(str(exc)) from exc
    keys = list(settings.encryption_keys)
    if kept.encryption_key not in {key.get_secret_value() for key in keys}:
        keys.append(SecretStr(kept.encryption_key))
    return settings.model_copy(
        update={"secret_key": settings.secret_key or SecretStr(kept.secret_key), "encryption_keys": keys}
    )


def load_settings() -> Settings:
    """THE effective settings: the environment (and `.env`), completed by the data directory's kept secrets.

    The server (create_app, in every worker) and every command get their settings here, through get_settings(),
    so they all sign, hash and encrypt with the same secrets.
    """
    return with_kept_secrets(Settings())


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
