"""Encryption of secret settings: Fernet keys from TWOSIGMA_ENCRYPTION_KEYS, the first encrypts, all decrypt."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from twosigma.config import Settings
from twosigma.kit.errors import Unavailable

MASK = "••••"
# Shorter secrets show no characters at all: the last four of a short value give too much of it away.
MASK_REVEAL_MIN_LENGTH = 12


class EncryptionNotConfigured(Unavailable):
    code = "encryption_not_configured"
    default_message = (
        "Secret settings need TWOSIGMA_ENCRYPTION_KEYS (one or more Fernet keys, comma-separated); none is configured."
    )


class EncryptionKeyInvalid(Unavailable):
    code = "encryption_key_invalid"
    default_message = "TWOSIGMA_ENCRYPTION_KEYS holds a value that is not a Fernet key (32 url-safe base64 bytes)."


class UndecryptableSecret(Exception):
    """The stored token was encrypted under a key that is no longer configured (or was tampered with)."""


class SecretBox:
    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise EncryptionNotConfigured()
        try:
            self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])
        except (ValueError, TypeError):
            raise EncryptionKeyInvalid() from None

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise UndecryptableSecret() from None

    def rotate(self, token: str) -> str:
        """Re-encrypt under the first key (MultiFernet.rotate keeps the original timestamp)."""
        try:
            return self._fernet.rotate(token.encode()).decode()
        except InvalidToken:
            raise UndecryptableSecret() from None


@dataclass
class Reencrypted:
    """What one domain's `reencrypt` did: how many stored secrets moved under the first key, and the labels of
    those no configured key opens (left as they are)."""

    rotated: int = 0
    failed: list[str] = field(default_factory=list)

    def rotate(self, box: SecretBox, token: str, label: str) -> str:
        """`token` under the first key, counted; the same token, its label noted, when no key opens it."""
        try:
            rotated = box.rotate(token)
        except UndecryptableSecret:
            self.failed.append(label)
            return token
        self.rotated += 1
        return rotated


@lru_cache(maxsize=8)
def _box(keys: tuple[str, ...]) -> SecretBox:
    return SecretBox(keys)


def secret_box(settings: Settings) -> SecretBox:
    """The box for the configured keys; EncryptionNotConfigured (503) when there are none."""
    return _box(tuple(key.get_secret_value() for key in settings.encryption_keys))


def mask(plaintext: str | None) -> str:
    if plaintext is None or len(plaintext) < MASK_REVEAL_MIN_LENGTH:
        return MASK
    return MASK + plaintext[-4:]
