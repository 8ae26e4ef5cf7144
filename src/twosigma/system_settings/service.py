"""Business rules of the settings store: validation of known keys, encryption of secrets, masking, rotation."""

from __future__ import annotations

import json
import logging

from pydantic import JsonValue
from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.config import Settings
from twosigma.kit.cache import invalidate
from twosigma.kit.errors import Invalid, NotFound, Unavailable
from twosigma.system_settings import repository
from twosigma.system_settings.cache import EffectiveCache
from twosigma.system_settings.crypto import MASK, Reencrypted, UndecryptableSecret, mask, secret_box
from twosigma.system_settings.models import SystemSetting
from twosigma.system_settings.registry import (
    KEY_PATTERN,
    KNOWN_SETTINGS,
    RESERVED_NAMESPACES,
    spec_for,
)
from twosigma.system_settings.schemas import (
    SettingList,
    SettingRead,
    SettingSchema,
    SettingSchemaEntry,
    SettingWrite,
)

logger = logging.getLogger(__name__)


class SettingNotFound(NotFound):
    code = "setting_not_found"
    default_message = "Setting not found."


def _invalid(message: str, loc: list[str]) -> Invalid:
    return Invalid(message, details=[{"loc": loc, "msg": message, "type": "value_error"}])


def validate_key(key: str) -> str:
    if not KEY_PATTERN.match(key):
        raise _invalid(
            "A setting key is 1-100 characters of lowercase letters, digits, '.', '_' and '-'.", ["path", "key"]
        )
    return key


def validate_value(key: str, value: JsonValue) -> JsonValue:
    """Known keys: the typed value. Unknown keys outside the reserved namespaces: any JSON value but null."""
    spec = spec_for(key)
    if spec is not None:
        try:
            return spec.parse(value)
        except ValueError as exc:
            raise _invalid(str(exc), ["body", "value"]) from None
    if key.startswith(RESERVED_NAMESPACES):
        namespace = key.split(".", 1)[0] + "."
        known = ", ".join(k for k in KNOWN_SETTINGS if k.startswith(namespace))
        raise _invalid(f"Unknown setting {key!r}; the keys of {namespace}* are: {known}.", ["path", "key"])
    if value is None:
        raise _invalid("A setting's value cannot be null; delete the setting instead.", ["body", "value"])
    return value


def decode(row: SystemSetting, settings: Settings) -> JsonValue:
    """The stored value, decrypted. Raises UndecryptableSecret (or EncryptionNotConfigured) for a secret that
    the configured keys cannot open."""
    if row.setting_value is None:
        return None
    text = secret_box(settings).decrypt(row.setting_value) if row.is_encrypted else row.setting_value
    try:
        value: JsonValue = json.loads(text)
    except ValueError:
        # Rows written by hand (or by an older release) as bare text.
        return text
    return value


def _mask_row(row: SystemSetting, settings: Settings) -> str:
    try:
        value = decode(row, settings)
    except (UndecryptableSecret, Unavailable):
        # No configured key opens it (or none is configured): the list still renders.
        return MASK
    return mask(value if isinstance(value, str) else json.dumps(value))


def to_read(row: SystemSetting, settings: Settings) -> SettingRead:
    if row.is_encrypted:
        value: JsonValue = _mask_row(row, settings)
    else:
        value = decode(row, settings)
    return SettingRead(
        key=row.setting_key,
        value=value,
        is_encrypted=row.is_encrypted,
        is_known=row.setting_key in KNOWN_SETTINGS,
        description=row.description,
        updated_at=row.updated_at,
    )


async def list_settings(session: AsyncSession, settings: Settings) -> SettingList:
    return SettingList(items=[to_read(row, settings) for row in await repository.list_all(session)])


async def get_setting(session: AsyncSession, settings: Settings, key: str) -> SettingRead:
    row = await repository.get(session, key)
    if row is None:
        raise SettingNotFound(f"No setting {key!r} is stored.")
    return to_read(row, settings)


async def _changed(session: AsyncSession, cache: EffectiveCache | None) -> None:
    """Every process's cached settings go: this one's now (and after commit), the others' by NOTIFY at commit."""
    await invalidate(session, EffectiveCache.payload, cache)


async def put_setting(
    session: AsyncSession,
    settings: Settings,
    key: str,
    body: SettingWrite,
    *,
    cache: EffectiveCache | None = None,
) -> SettingRead:
    validate_key(key)
    value = validate_value(key, body.value)
    spec = spec_for(key)
    encrypted = body.is_encrypted or (spec is not None and spec.secret)
    text = json.dumps(value, ensure_ascii=False)
    if encrypted:
        text = secret_box(settings).encrypt(text)
    row = await repository.upsert(session, key=key, value=text, is_encrypted=encrypted, description=body.description)
    await _changed(session, cache)
    logger.info("setting %s written (encrypted=%s)", key, encrypted)
    return to_read(row, settings)


async def delete_setting(session: AsyncSession, key: str, *, cache: EffectiveCache | None = None) -> None:
    if not await repository.remove(session, key):
        raise SettingNotFound(f"No setting {key!r} is stored.")
    await _changed(session, cache)
    logger.info("setting %s deleted", key)


def settings_schema() -> SettingSchema:
    return SettingSchema(
        items=[
            SettingSchemaEntry(
                key=spec.key,
                type=spec.type.value,
                default=spec.default,
                secret=spec.secret,
                env_vars=list(spec.env_vars),
                description=spec.description,
                choices=list(spec.choices) if spec.choices else None,
                minimum=spec.minimum,
                exclusive_minimum=spec.exclusive_minimum,
                maximum=spec.maximum,
            )
            for spec in KNOWN_SETTINGS.values()
        ]
    )


RotationResult = Reencrypted


async def reencrypt(session: AsyncSession, settings: Settings, *, cache: EffectiveCache | None = None) -> Reencrypted:
    """Re-encrypt every encrypted setting under the first configured key. Rows no configured key opens are
    left as they are and reported by key. The other domains' secrets are re-encrypted by their own `reencrypt`
    (ops/secrets.py runs them all: `twosigma settings rotate-key`)."""
    box = secret_box(settings)
    result = Reencrypted()
    for row in await repository.list_encrypted_for_update(session):
        if row.setting_value is None:
            continue
        row.setting_value = result.rotate(box, row.setting_value, row.setting_key)
    await session.flush()
    await _changed(session, cache)
    logger.info(
        "re-encrypted %d settings under the first key (%d could not be decrypted)", result.rotated, len(result.failed)
    )
    return result


rotate_encryption = reencrypt


async def encrypted_values(session: AsyncSession) -> list[tuple[str, str]]:
    """(label, token) of every encrypted setting: what `twosigma doctor` checks the keys against."""
    rows = await repository.list_all(session)
    return [(f"setting {row.setting_key}", row.setting_value) for row in rows if row.is_encrypted and row.setting_value]
