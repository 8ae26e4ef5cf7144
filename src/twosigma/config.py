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

    environment: Environment = Field(
        default=Environment.DEVELOPMENT,
        description="`development`, `test` or `production`. Production refuses to start without "
        "TWOSIGMA_SECRET_KEY and TWOSIGMA_ENCRYPTION_KEYS, and never generates secrets of its own.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL (`postgresql+asyncpg://user:password@host:5432/dbname`). Unset: the embedded "
        "PostgreSQL is started in the data directory (docs/operations.md).",
    )
    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Where the embedded PostgreSQL keeps its data (`pgdata/`), and where an install without "
        "configured secrets keeps the ones it generated (`secrets.json`, mode 0600: back it up).",
        json_schema_extra={"shown_default": "user data dir (`/var/lib/twosigma` as root)"},
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Signs JWTs (HS256) and keys API key hashes, so it must stay the same. Required, 32+ "
        "characters, in production; unset elsewhere: generated and kept in the data directory.",
    )
    encryption_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated Fernet keys for secrets at rest; the first encrypts, all decrypt. Required in "
        "production. Outside production the key kept in the data directory is always appended, so what it "
        "encrypted stays readable.",
        json_schema_extra={"shown_default": "generated and kept in the data directory"},
    )
    access_token_minutes: int = Field(default=30, ge=1, description="Access token lifetime, in minutes.")
    refresh_token_days: int = Field(default=14, ge=1, description="Refresh token lifetime, in days.")
    bcrypt_rounds: int = Field(default=12, ge=4, le=16, description="bcrypt cost for passwords; 12 in production.")
    login_attempts_per_minute: int = Field(
        default=10,
        ge=1,
        description="Login attempts allowed per email and per client address (password changes: per user).",
    )
    registrations_per_minute: int = Field(
        default=20,
        ge=1,
        description="Sign-ups per client address, `/auth/register` and `/auth/register-with-onboarding` together, "
        "taken emails included (a campus behind one NAT address shares it). See docs/auth.md.",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Comma-separated origins allowed by CORS. Empty: no cross-origin access."
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis for rate limits shared across processes (`redis://host:6379/0`). Unset: in memory, "
        "per process.",
    )
    redis_key_prefix: str = Field(
        default="twosigma", min_length=1, description="Starts every rate-limit key in Redis (share one Redis safely)."
    )
    db_pool_size: int = Field(default=10, ge=1, description="Pooled database connections per process.")
    db_max_overflow: int = Field(
        default=10, ge=0, description="Connections a process may open beyond the pool under load."
    )
    db_pool_timeout_seconds: float = Field(
        default=10.0, gt=0, description="How long a request waits for a pooled connection before a 503."
    )
    db_statement_timeout_ms: int = Field(
        default=30_000, ge=0, description="PostgreSQL `statement_timeout` for the app's connections (0: none)."
    )
    public_base_url: str = Field(
        default="http://localhost:8000",
        description="Where this server is reached: builds links (share URLs, and the links mails carry: reset, "
        "verification, invitations). Also the single sign-on redirect URI's base: "
        "`{base}/api/v1/auth/sso/callback`, which each university registers at its provider.",
    )
    web_base_url: str | None = Field(
        default=None,
        description="A web client of your own: mailed links go to it instead (same paths and `token` query), this "
        "server's pages redirect there, and single sign-on finishes at `{web}/sso/complete?code=…`. "
        "See docs/identity.md.",
    )
    log_level: str = Field(default="INFO", description="Python log level: DEBUG, INFO, WARNING, ERROR.")
    log_json: bool = Field(default=True, description="One JSON object per log line (false: plain text).")
    max_body_bytes: int = Field(
        default=1_048_576,
        ge=300_000,
        description="Largest request body accepted, chunked or not (413 `payload_too_large` beyond); must exceed "
        "data_json's 256 KiB.",
    )
    max_json_depth: int = Field(default=64, ge=8, le=1000, description="Deepest JSON nesting accepted (422 beyond).")
    metrics_enabled: bool = Field(default=True, description="Serve `GET /metrics` (Prometheus text); false: 404.")
    metrics_token: SecretStr | None = Field(
        default=None,
        description="When set, `GET /metrics` needs `Authorization: Bearer <token>`. With neither this nor "
        "TWOSIGMA_METRICS_PUBLIC, `/metrics` answers 401.",
    )
    metrics_public: bool = Field(
        default=False,
        description="Open `GET /metrics` to anyone when no metrics token is set (otherwise `/metrics` answers 401).",
    )
    shutdown_timeout_seconds: float = Field(
        default=20.0,
        ge=0,
        description="On SIGTERM/SIGINT, how long `twosigma serve` lets in-flight requests (tutor streams) finish "
        "before they are cancelled; then the embedded PostgreSQL stops.",
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
