"""A university's own LLM provider: the platform's `llm.*` keys, scoped to the university (its admins), secrets
encrypted with the platform's keys and masked when read. When the university sets `llm.provider`, its students'
turns use the university's provider with the university's credentials only — never the platform's key for that
provider — and the platform's values for the rest (temperature, token limits, timeout).

The fallback follows the same line: a university with its own provider falls back only to the fallback it set
itself (`llm.fallback_provider`, `llm.fallback_model`, with its own credentials for that provider), never to the
platform's — a university that brought its own key may not want the platform's provider to see its students'
messages. Without its own provider, the platform's fallback applies as to everyone (docs/tutor-governance.md)."""

from __future__ import annotations

import dataclasses
import json
import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.config import Environment, Settings
from twosigma.governance import repository as repo
from twosigma.governance.models import UniversitySetting
from twosigma.governance.schemas import UniversitySettingList, UniversitySettingRead, UniversitySettingWrite
from twosigma.kit.errors import Invalid, NotFound, Unavailable
from twosigma.sso import oidc
from twosigma.system_settings.crypto import Reencrypted, UndecryptableSecret, mask, secret_box
from twosigma.system_settings.effective import EffectiveSettings, attribute
from twosigma.system_settings.registry import spec_for
from twosigma.tenancy.models import University

logger = logging.getLogger(__name__)

# The provider and what configures it; not the platform's own concerns (prices).
CREDENTIAL_KEYS = (
    "llm.anthropic_api_key",
    "llm.anthropic_base_url",
    "llm.bedrock_region",
    "llm.bedrock_access_key_id",
    "llm.bedrock_secret_access_key",
    "llm.bedrock_base_url",
    "llm.openai_api_key",
    "llm.openai_base_url",
)
UNIVERSITY_KEYS = (
    "llm.provider",
    *CREDENTIAL_KEYS,
    "llm.default_model",
    "llm.temperature",
    "llm.max_tokens",
    "llm.timeout_seconds",
    "llm.fallback_provider",
    "llm.fallback_model",
)


def _read(row: UniversitySetting, settings: Settings) -> UniversitySettingRead:
    value: Any
    if row.is_encrypted:
        try:
            value = mask(json.loads(secret_box(settings).decrypt(row.setting_value)))
        except (UndecryptableSecret, Unavailable, ValueError):
            value = mask(None)
    else:
        value = json.loads(row.setting_value)
    return UniversitySettingRead(
        key=row.setting_key, value=value, is_encrypted=row.is_encrypted, updated_at=row.updated_at
    )


async def list_settings(session: AsyncSession, settings: Settings, university: University) -> UniversitySettingList:
    rows = await repo.university_settings(session, university.id)
    return UniversitySettingList(items=[_read(row, settings) for row in rows])


def _spec_of(key: str) -> Any:
    spec = spec_for(key)
    if key not in UNIVERSITY_KEYS or spec is None:
        message = f"A university may set only these keys: {', '.join(UNIVERSITY_KEYS)}."
        raise Invalid(message, code="unknown_setting", details=[{"loc": ["path", "key"], "msg": message}])
    return spec


async def _ensure_public(key: str, url: str) -> None:
    """A university's provider URL is called by this server with its students' messages: in production it must be
    an https URL on public addresses, never the platform's own network (a university admin is not the operator)."""
    try:
        await oidc.ensure_public(url)
    except (oidc.IssuerNotPublic, oidc.DiscoveryFailed):
        message = f"{key} must be an https URL on a public internet address."
        raise Invalid(message, code="url_not_public", details=[{"loc": ["body", "value"], "msg": message}]) from None


async def put_setting(
    session: AsyncSession, settings: Settings, university: University, key: str, body: UniversitySettingWrite
) -> UniversitySettingRead:
    spec = _spec_of(key)
    try:
        value = spec.parse(body.value)
    except ValueError as exc:
        raise Invalid(str(exc), details=[{"loc": ["body", "value"], "msg": str(exc)}]) from None
    if key.endswith("_base_url") and value and settings.environment is Environment.PRODUCTION:
        await _ensure_public(key, value)
    text = json.dumps(value, ensure_ascii=False)
    if spec.secret:
        text = secret_box(settings).encrypt(text)
    row = await repo.university_setting(session, university.id, key)
    if row is None:
        row = UniversitySetting(
            university_id=university.id, setting_key=key, setting_value=text, is_encrypted=spec.secret
        )
        session.add(row)
    else:
        row.setting_value, row.is_encrypted = text, spec.secret
    await session.flush()
    await session.refresh(row)
    logger.info("university %s setting %s written", university.id, key)
    return _read(row, settings)


async def delete_setting(session: AsyncSession, university: University, key: str) -> None:
    row = await repo.university_setting(session, university.id, key)
    if row is None:
        raise NotFound(f"The university has no setting {key!r}.", code="setting_not_found")
    await session.delete(row)
    await session.flush()


async def reencrypt(session: AsyncSession, settings: Settings) -> Reencrypted:
    """Every university's secret settings re-encrypted under the first configured key (`twosigma settings
    rotate-key`); those no configured key opens are left as they are and reported."""
    box = secret_box(settings)
    result = Reencrypted()
    for row in await repo.encrypted_university_settings(session, for_update=True):
        label = f"university {row.university_id} setting {row.setting_key}"
        row.setting_value = result.rotate(box, row.setting_value, label)
    await session.flush()
    logger.info("re-encrypted %d university settings (%d could not be decrypted)", result.rotated, len(result.failed))
    return result


async def encrypted_values(session: AsyncSession) -> list[tuple[str, str]]:
    """(label, token) of every university's secret settings: what `twosigma doctor` checks the keys against."""
    rows = await repo.encrypted_university_settings(session, for_update=False)
    return [(f"university {row.university_id} setting {row.setting_key}", row.setting_value) for row in rows]


async def llm_settings_for(
    session: AsyncSession, settings: Settings, effective: EffectiveSettings, university_id: int | None
) -> EffectiveSettings:
    """The settings a turn's provider is built from: the platform's, or — when the university sets llm.provider —
    the university's provider and credentials over the platform's other values."""
    if university_id is None:
        return effective
    rows = {row.setting_key: row for row in await repo.university_settings(session, university_id)}
    if "llm.provider" not in rows:
        return effective
    values: dict[str, Any] = {attribute(key): None for key in CREDENTIAL_KEYS}
    values["llm_default_model"] = None  # the platform's default model is for the platform's provider
    values["llm_ambient_credentials"] = False  # never the platform machine's AWS credentials (factory.client_config)
    # Never the platform's fallback: only the one the university set, with its own credentials.
    values["llm_fallback_provider"] = values["llm_fallback_model"] = None
    for key, row in rows.items():
        spec = spec_for(key)
        if spec is None:
            continue
        try:
            text = secret_box(settings).decrypt(row.setting_value) if row.is_encrypted else row.setting_value
            values[attribute(key)] = spec.parse(json.loads(text))
        except (UndecryptableSecret, Unavailable, ValueError):
            logger.warning("university %s setting %s ignored: unreadable", university_id, key)
    return dataclasses.replace(effective, **values)
