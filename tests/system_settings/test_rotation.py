"""Key rotation: secrets written under key A are re-encrypted under B, after which B alone opens them."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.config import Settings
from twosigma.system_settings import service
from twosigma.system_settings.crypto import UndecryptableSecret
from twosigma.system_settings.effective import get_effective_settings
from twosigma.system_settings.models import SystemSetting
from twosigma.system_settings.schemas import SettingWrite

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()


def with_keys(settings: Settings, *keys: str) -> Settings:
    return settings.model_copy(update={"encryption_keys": [SecretStr(k) for k in keys]})


async def row_for(db: AsyncSession, key: str) -> SystemSetting:
    row = await db.scalar(select(SystemSetting).where(SystemSetting.setting_key == key))
    assert row is not None
    return row


class TestRotateEncryption:
    async def test_rotated_secrets_open_with_the_new_key_alone(self, db: AsyncSession, settings: Settings) -> None:
        under_a = with_keys(settings, KEY_A)
        await service.put_setting(db, under_a, "llm.openai_api_key", SettingWrite(value="sk-openai-0123456789"))
        await service.put_setting(db, under_a, "llm.anthropic_api_key", SettingWrite(value="sk-ant-0123456789"))
        await service.put_setting(db, under_a, "llm.provider", SettingWrite(value="openai"))

        result = await service.rotate_encryption(db, with_keys(settings, KEY_B, KEY_A))

        assert result.rotated == 2
        assert result.failed == []
        only_b = with_keys(settings, KEY_B)
        assert service.decode(await row_for(db, "llm.openai_api_key"), only_b) == "sk-openai-0123456789"
        effective = await get_effective_settings(db, only_b, environ={})
        assert effective.llm_anthropic_api_key == "sk-ant-0123456789"
        with pytest.raises(UndecryptableSecret):
            service.decode(await row_for(db, "llm.openai_api_key"), with_keys(settings, KEY_A))

    async def test_a_secret_no_key_opens_is_reported_and_left_alone(self, db: AsyncSession, settings: Settings) -> None:
        lost_key = Fernet.generate_key().decode()
        await service.put_setting(db, with_keys(settings, lost_key), "llm.openai_api_key", SettingWrite(value="x" * 20))
        before = (await row_for(db, "llm.openai_api_key")).setting_value

        result = await service.rotate_encryption(db, with_keys(settings, KEY_B, KEY_A))

        assert result.failed == ["llm.openai_api_key"]
        assert (await row_for(db, "llm.openai_api_key")).setting_value == before
