"""get_effective_settings: stored > environment > default, secrets decrypted, changes seen at once."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.config import Settings
from twosigma.system_settings import service
from twosigma.system_settings.effective import get_effective_settings
from twosigma.system_settings.models import SystemSetting
from twosigma.system_settings.schemas import SettingWrite


class TestEffectiveSettings:
    async def test_defaults_apply_when_nothing_is_stored_or_set(self, db: AsyncSession, settings: Settings) -> None:
        effective = await get_effective_settings(db, settings, environ={})
        assert effective.llm_provider is None
        assert effective.tutor_default_prompt_name == "General Protocol"
        assert effective.tutor_history_token_budget == 8000
        assert effective.llm_temperature == 0.7
        assert effective.sources["llm.temperature"] == "default"

    async def test_environment_variable_is_read_and_typed(self, db: AsyncSession, settings: Settings) -> None:
        environ = {"TWOSIGMA_LLM_PROVIDER": "openai", "TWOSIGMA_LLM_MAX_TOKENS": "300"}
        effective = await get_effective_settings(db, settings, environ=environ)
        assert effective.llm_provider == "openai"
        assert effective.llm_max_tokens == 300
        assert effective.sources["llm.max_tokens"] == "env:TWOSIGMA_LLM_MAX_TOKENS"

    async def test_vendor_variable_is_a_fallback_after_the_twosigma_one(
        self, db: AsyncSession, settings: Settings
    ) -> None:
        only_vendor = await get_effective_settings(db, settings, environ={"OPENAI_API_KEY": "sk-vendor"})
        both = await get_effective_settings(
            db, settings, environ={"OPENAI_API_KEY": "sk-vendor", "TWOSIGMA_LLM_OPENAI_API_KEY": "sk-ours"}
        )
        assert only_vendor.llm_openai_api_key == "sk-vendor"
        assert both.llm_openai_api_key == "sk-ours"

    async def test_stored_setting_wins_over_the_environment(self, db: AsyncSession, settings: Settings) -> None:
        await service.put_setting(db, settings, "llm.provider", SettingWrite(value="anthropic"))
        await service.put_setting(db, settings, "llm.anthropic_api_key", SettingWrite(value="sk-stored-1234567"))
        environ = {"TWOSIGMA_LLM_PROVIDER": "openai", "ANTHROPIC_API_KEY": "sk-env"}
        effective = await get_effective_settings(db, settings, environ=environ)
        assert effective.llm_provider == "anthropic"
        assert effective.llm_anthropic_api_key == "sk-stored-1234567"
        assert effective.sources["llm.anthropic_api_key"] == "stored"

    async def test_invalid_environment_value_falls_back_to_the_default(
        self, db: AsyncSession, settings: Settings
    ) -> None:
        effective = await get_effective_settings(db, settings, environ={"TWOSIGMA_LLM_TEMPERATURE": "hot"})
        assert effective.llm_temperature == 0.7

    async def test_a_change_is_seen_by_the_next_read(self, db: AsyncSession, settings: Settings) -> None:
        await service.put_setting(db, settings, "tutor.messages_per_minute", SettingWrite(value=5))
        assert (await get_effective_settings(db, settings, environ={})).tutor_messages_per_minute == 5
        await service.put_setting(db, settings, "tutor.messages_per_minute", SettingWrite(value=9))
        assert (await get_effective_settings(db, settings, environ={})).tutor_messages_per_minute == 9
        await service.delete_setting(db, "tutor.messages_per_minute")
        assert (await get_effective_settings(db, settings, environ={})).tutor_messages_per_minute == 20

    async def test_row_written_by_hand_as_bare_text_is_still_read(self, db: AsyncSession, settings: Settings) -> None:
        db.add(SystemSetting(setting_key="tutor.default_prompt_name", setting_value="Socratic"))
        await db.flush()
        effective = await get_effective_settings(db, settings, environ={})
        assert effective.tutor_default_prompt_name == "Socratic"

    async def test_secrets_are_left_out_of_the_repr(self, db: AsyncSession, settings: Settings) -> None:
        effective = await get_effective_settings(db, settings, environ={"OPENAI_API_KEY": "sk-do-not-print"})
        assert "sk-do-not-print" not in repr(effective)
