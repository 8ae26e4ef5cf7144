"""The settings the running code uses: every known key resolved as stored > environment > default.

Read from the database on every call (one indexed query on a table of a few rows, plus a Fernet decryption per
secret: well under a millisecond), so a change committed by any process takes effect on the next request of
every process, with no cache to invalidate.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.config import Settings
from twosigma.kit.errors import Unavailable
from twosigma.system_settings import repository
from twosigma.system_settings.crypto import UndecryptableSecret, secret_box
from twosigma.system_settings.registry import DEFAULT_SUPPORT_TEXT, KNOWN_SETTINGS, Scalar, SettingSpec

logger = logging.getLogger(__name__)
_warned: set[tuple[str, str]] = set()


def _warn_once(key: str, reason: str) -> None:
    # Names the key and the reason, never the value.
    if (key, reason) not in _warned:
        _warned.add((key, reason))
        logger.warning("setting %s ignored: %s", key, reason)


@dataclass(frozen=True)
class EffectiveSettings:
    llm_provider: str | None = None
    llm_anthropic_api_key: str | None = field(default=None, repr=False)
    llm_anthropic_base_url: str | None = None
    llm_bedrock_region: str | None = None
    llm_bedrock_access_key_id: str | None = None
    llm_bedrock_secret_access_key: str | None = field(default=None, repr=False)
    llm_bedrock_base_url: str | None = None
    # Not a setting: False for a university's own provider (governance), whose Bedrock calls must carry its own keys
    # and never fall back to the AWS credentials of the machine the platform runs on.
    llm_ambient_credentials: bool = True
    llm_openai_api_key: str | None = field(default=None, repr=False)
    llm_openai_base_url: str | None = None
    llm_default_model: str | None = None
    llm_fallback_provider: str | None = None
    llm_fallback_model: str | None = None
    llm_temperature: float = 0.7
    llm_max_tokens: int = 1024
    llm_timeout_seconds: float = 60.0
    llm_prices: str | None = None  # the JSON text of an object (registry.check_price_table)
    llm_embedding_provider: str | None = None
    llm_embedding_model: str | None = None
    llm_embedding_base_url: str | None = None
    llm_embedding_api_key: str | None = field(default=None, repr=False)
    tutor_default_prompt_name: str = "General Protocol"
    tutor_history_token_budget: int = 8000
    tutor_messages_per_minute: int = 20
    tutor_tokens_per_day: int = 200_000
    tutor_open_chat: bool = False
    tutor_enabled: bool = True
    tutor_monthly_budget_usd: float | None = None
    tutor_user_daily_budget_usd: float | None = None
    tutor_chat_visibility: str = "private"
    tutor_support_text: str = DEFAULT_SUPPORT_TEXT
    tutor_moderation_endpoint: bool = False
    tutor_moderation_model: str | None = None
    tutor_retrieval_k: int = 4
    tutor_retrieval_token_budget: int = 1500
    mail_smtp_host: str | None = None
    mail_smtp_port: int = 587
    mail_smtp_username: str | None = None
    mail_smtp_password: str | None = field(default=None, repr=False)
    mail_smtp_starttls: bool = True
    mail_from_address: str = "twosigma@localhost"
    auth_allow_self_registration: bool = True
    lti_roster_sync_hours: int = 24
    # key → "stored", "env:VAR" or "default": where each value came from (for the CLI and diagnostics).
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)


def attribute(key: str) -> str:
    return key.replace(".", "_")


def _from_env(spec: SettingSpec, environ: Mapping[str, str]) -> tuple[Scalar, str] | None:
    for name in spec.env_vars:
        raw = environ.get(name)
        if raw is None or not raw.strip():
            continue
        try:
            return spec.parse(raw), f"env:{name}"
        except ValueError as exc:
            _warn_once(spec.key, f"{name} is not valid ({exc})")
    return None


def _from_row(spec: SettingSpec, stored: str | None, encrypted: bool, settings: Settings) -> Scalar | None:
    if stored is None:
        return None
    try:
        text = secret_box(settings).decrypt(stored) if encrypted else stored
    except (UndecryptableSecret, Unavailable):
        _warn_once(spec.key, "the stored secret cannot be decrypted with the configured keys")
        return None
    try:
        value: Any = json.loads(text)
    except ValueError:
        value = text
    try:
        return spec.parse(value)
    except ValueError as exc:
        _warn_once(spec.key, f"the stored value is not valid ({exc})")
        return None


def resolve(
    stored: Mapping[str, tuple[str | None, bool]], settings: Settings, environ: Mapping[str, str] | None = None
) -> EffectiveSettings:
    """`stored`: key → (setting_value, is_encrypted) as in the table."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key, spec in KNOWN_SETTINGS.items():
        value: Scalar | None = None
        if key in stored:
            value = _from_row(spec, *stored[key], settings)
            source = "stored"
        if value is None:
            found = _from_env(spec, env)
            if found is not None:
                value, source = found
        if value is None:
            value, source = spec.default, "default"
        values[attribute(key)] = value
        sources[key] = source
    return EffectiveSettings(**values, sources=sources)


async def get_effective_settings(
    session: AsyncSession, settings: Settings, environ: Mapping[str, str] | None = None
) -> EffectiveSettings:
    rows = await repository.get_many(session, list(KNOWN_SETTINGS))
    stored = {row.setting_key: (row.setting_value, row.is_encrypted) for row in rows}
    return resolve(stored, settings, environ)
