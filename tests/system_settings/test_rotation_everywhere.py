"""`twosigma settings rotate-key` re-encrypts every stored secret, whichever domain owns it: the platform's secret
settings, a university's own LLM key (governance), the LTI tool's private keys (the retired one too) and a
university's SSO client secret. After the rotation the old key can be removed: each still opens, through the code
that uses it."""

from __future__ import annotations

import dataclasses

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.factories import make_university
from twosigma.config import Settings
from twosigma.governance.models import UniversitySetting
from twosigma.governance.schemas import UniversitySettingWrite
from twosigma.governance.services import university_settings
from twosigma.lti.models import LtiToolKey
from twosigma.lti.services import keys as lti_keys
from twosigma.ops.stored_secrets import every_encrypted_value, rotate_every_secret
from twosigma.sso.models import SsoProvider
from twosigma.system_settings import service
from twosigma.system_settings.crypto import UndecryptableSecret, secret_box
from twosigma.system_settings.effective import get_effective_settings
from twosigma.system_settings.schemas import SettingWrite
from twosigma.tenancy.models import University

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()


def with_keys(settings: Settings, *keys: str) -> Settings:
    return settings.model_copy(update={"encryption_keys": [SecretStr(k) for k in keys]})


async def _store_everything(db: AsyncSession, under_a: Settings) -> University:
    await service.put_setting(db, under_a, "llm.anthropic_api_key", SettingWrite(value="sk-platform-0123456789"))
    university = await make_university(db)
    await university_settings.put_setting(
        db, under_a, university, "llm.provider", UniversitySettingWrite(value="openai")
    )
    await university_settings.put_setting(
        db, under_a, university, "llm.openai_api_key", UniversitySettingWrite(value="sk-university-0123456789")
    )
    await lti_keys.signing_key(db, under_a)
    await lti_keys.rotate(db, under_a)  # one retired key and one signing key, both stored encrypted
    db.add(
        SsoProvider(
            university_id=university.id,
            issuer="https://idp.example.org",
            client_id="twosigma",
            client_secret_encrypted=secret_box(under_a).encrypt("sso-client-secret"),
            authorization_endpoint="https://idp.example.org/authorize",
            token_endpoint="https://idp.example.org/token",
            jwks_uri="https://idp.example.org/jwks",
        )
    )
    await db.flush()
    return university


class TestRotateEverySecret:
    async def test_after_rotation_the_new_key_alone_opens_every_secret(
        self, db: AsyncSession, settings: Settings
    ) -> None:
        under_a = with_keys(settings, KEY_A)
        university = await _store_everything(db, under_a)

        rotation = await rotate_every_secret(db, with_keys(settings, KEY_B, KEY_A))

        assert rotation.failed == []
        assert [(label, result.rotated) for label, result in rotation.by_owner] == [
            ("setting(s)", 1),
            ("university setting(s)", 1),
            ("LTI tool key(s)", 2),
            ("SSO client secret(s)", 1),
        ]
        assert rotation.summary() == (
            "Re-encrypted 1 setting(s), 1 university setting(s), 2 LTI tool key(s) and 1 SSO client secret(s) "
            "under the first key."
        )

        only_b = with_keys(settings, KEY_B)
        # Each secret opens with B alone, through the code that uses it...
        effective = await get_effective_settings(db, only_b, environ={})
        assert effective.llm_anthropic_api_key == "sk-platform-0123456789"
        turn = await university_settings.llm_settings_for(db, only_b, effective, university.id)
        assert turn.llm_provider == "openai"
        assert turn.llm_openai_api_key == "sk-university-0123456789"
        assert (await lti_keys.signing_key(db, only_b)).key.as_dict(private=True)["d"]
        provider = await db.scalar(select(SsoProvider).where(SsoProvider.university_id == university.id))
        assert provider is not None
        assert secret_box(only_b).decrypt(provider.client_secret_encrypted) == "sso-client-secret"
        # ...and every stored token, the retired LTI key's included, opens with B and no longer with A.
        tokens = await every_encrypted_value(db)
        assert len(tokens) == 5
        for label, token in tokens:
            secret_box(only_b).decrypt(token)
            with pytest.raises(UndecryptableSecret):
                secret_box(with_keys(settings, KEY_A)).decrypt(token)
            assert label

    async def test_a_secret_no_key_opens_is_reported_by_its_owner_and_left_alone(
        self, db: AsyncSession, settings: Settings
    ) -> None:
        lost = with_keys(settings, Fernet.generate_key().decode())
        university = await make_university(db)
        await university_settings.put_setting(
            db, lost, university, "llm.openai_api_key", UniversitySettingWrite(value="sk-lost-0123456789")
        )
        await lti_keys.signing_key(db, lost)
        row = await db.scalar(select(UniversitySetting).where(UniversitySetting.university_id == university.id))
        key_row = await db.scalar(select(LtiToolKey))
        assert row is not None
        assert key_row is not None
        before = (row.setting_value, key_row.private_key_encrypted)

        rotation = await rotate_every_secret(db, with_keys(settings, KEY_B, KEY_A))

        assert rotation.failed == [
            f"university {university.id} setting llm.openai_api_key",
            f"LTI tool key {key_row.kid}",
        ]
        assert (row.setting_value, key_row.private_key_encrypted) == before
        assert dataclasses.asdict(dict(rotation.by_owner)["setting(s)"]) == {"rotated": 0, "failed": []}
