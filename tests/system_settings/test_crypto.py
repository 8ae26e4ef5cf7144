"""SecretBox: Fernet round trip, MultiFernet rotation, masking."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from twosigma.system_settings.crypto import (
    EncryptionKeyInvalid,
    EncryptionNotConfigured,
    SecretBox,
    UndecryptableSecret,
    mask,
)

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()


class TestSecretBox:
    def test_round_trip_returns_the_plaintext(self) -> None:
        box = SecretBox([KEY_A])
        token = box.encrypt("hunter2-secret")
        assert token != "hunter2-secret"
        assert box.decrypt(token) == "hunter2-secret"

    def test_the_same_plaintext_encrypts_differently_each_time(self) -> None:
        box = SecretBox([KEY_A])
        assert box.encrypt("x") != box.encrypt("x")

    def test_first_key_encrypts_and_every_key_decrypts(self) -> None:
        old_token = SecretBox([KEY_A]).encrypt("old")
        both = SecretBox([KEY_B, KEY_A])
        assert both.decrypt(old_token) == "old"
        assert SecretBox([KEY_B]).decrypt(both.encrypt("new")) == "new"

    def test_rotation_moves_a_secret_to_the_first_key(self) -> None:
        token = SecretBox([KEY_A]).encrypt("s3cret")
        rotated = SecretBox([KEY_B, KEY_A]).rotate(token)
        assert SecretBox([KEY_B]).decrypt(rotated) == "s3cret"
        with pytest.raises(UndecryptableSecret):
            SecretBox([KEY_B]).decrypt(token)

    def test_a_token_from_an_unknown_key_is_undecryptable(self) -> None:
        with pytest.raises(UndecryptableSecret):
            SecretBox([KEY_B]).decrypt(SecretBox([KEY_A]).encrypt("x"))

    def test_no_keys_is_encryption_not_configured(self) -> None:
        with pytest.raises(EncryptionNotConfigured):
            SecretBox([])

    def test_a_key_that_is_not_a_fernet_key_is_refused(self) -> None:
        with pytest.raises(EncryptionKeyInvalid):
            SecretBox(["not-a-key"])


class TestMask:
    def test_long_secret_shows_its_last_four_characters(self) -> None:
        assert mask("sk-abcdefghijklmnop-a1b2") == "••••a1b2"

    def test_short_secret_shows_nothing(self) -> None:
        assert mask("a1b2c3") == "••••"
