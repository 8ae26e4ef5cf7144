"""The tool's RSA keys: created on first use, stored encrypted, published at /lti/jwks.json, rotated by
`twosigma lti rotate-key`.

The newest unretired key signs (deep-linking responses, the client assertions of the platform's token endpoint).
A rotation retires every older key but keeps publishing it for `RETIRED_KEY_PUBLISHED_FOR`: whatever the tool
signs lives five minutes at most (`SIGNED_TOKEN_LIFETIME`), and platforms cache a tool's JWKS, so a day covers
both with room to spare.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio.to_thread
from joserfc import jwt
from joserfc.jwk import RSAKey
from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.config import Settings
from twosigma.lti import repository
from twosigma.lti.models import LtiToolKey
from twosigma.system_settings.crypto import Reencrypted, secret_box

KEY_BITS = 2048
ALGORITHM = "RS256"
SIGNED_TOKEN_LIFETIME = timedelta(minutes=5)
RETIRED_KEY_PUBLISHED_FOR = timedelta(days=1)


@dataclass(frozen=True)
class SigningKey:
    kid: str
    key: RSAKey


def _now() -> datetime:
    return datetime.now(UTC)


def _generate() -> RSAKey:
    return RSAKey.generate_key(KEY_BITS, parameters={"kid": secrets.token_hex(16), "use": "sig", "alg": ALGORITHM})


async def _create(session: AsyncSession, settings: Settings) -> LtiToolKey:
    key = await anyio.to_thread.run_sync(_generate)  # RSA key generation takes tens of milliseconds
    private = json.dumps(key.as_dict(private=True))
    public: dict[str, Any] = dict(key.as_dict(private=False))
    row = LtiToolKey(kid=str(key.kid), private_key_encrypted=secret_box(settings).encrypt(private), public_jwk=public)
    await repository.add(session, row)
    return row


async def signing_key(session: AsyncSession, settings: Settings) -> SigningKey:
    """The key the tool signs with, created (under a lock, so two processes agree) the first time it is needed."""
    row = await repository.signing_key(session)
    if row is None:
        await repository.lock_keys(session)
        row = await repository.signing_key(session) or await _create(session, settings)
    private = json.loads(secret_box(settings).decrypt(row.private_key_encrypted))
    return SigningKey(kid=row.kid, key=RSAKey.import_key(private))


async def rotate(session: AsyncSession, settings: Settings) -> str:
    """Retire every key and sign with a new one from now on; its kid."""
    await repository.lock_keys(session)
    await repository.retire_keys(session, _now())
    return (await _create(session, settings)).kid


async def signing_key_opens(session: AsyncSession, settings: Settings) -> str | None:
    """The kid of the key the tool signs with when the configured keys open it; None while no key exists yet (the
    first launch creates it). Raises UndecryptableSecret when they do not (`twosigma doctor`)."""
    row = await repository.signing_key(session)
    if row is None:
        return None
    RSAKey.import_key(json.loads(secret_box(settings).decrypt(row.private_key_encrypted)))
    return row.kid


async def reencrypt(session: AsyncSession, settings: Settings) -> Reencrypted:
    """Every private key (retired ones too: they may sign nothing, but they stay stored) re-encrypted under the
    first configured key (`twosigma settings rotate-key`); those no configured key opens are reported."""
    box = secret_box(settings)
    result = Reencrypted()
    await repository.lock_keys(session)
    for row in await repository.all_keys(session, for_update=True):
        row.private_key_encrypted = result.rotate(box, row.private_key_encrypted, f"LTI tool key {row.kid}")
    await session.flush()
    return result


async def encrypted_values(session: AsyncSession) -> list[tuple[str, str]]:
    """(label, token) of every private key of the tool: what `twosigma doctor` checks the keys against."""
    return [
        (f"LTI tool key {row.kid}", row.private_key_encrypted)
        for row in await repository.all_keys(session, for_update=False)
    ]


async def jwks(session: AsyncSession, settings: Settings) -> dict[str, Any]:
    """The public keys a platform verifies the tool's signatures with (the signing key created if none exists)."""
    await signing_key(session, settings)
    rows = await repository.published_keys(session, _now() - RETIRED_KEY_PUBLISHED_FOR)
    return {"keys": [dict(row.public_jwk) for row in rows]}


async def sign(session: AsyncSession, settings: Settings, claims: dict[str, Any]) -> str:
    """`claims` signed with the current key, with `iat`, `exp` (`SIGNED_TOKEN_LIFETIME`) and a `jti` added."""
    key = await signing_key(session, settings)
    now = int(_now().timestamp())
    payload = {"iat": now, "exp": now + int(SIGNED_TOKEN_LIFETIME.total_seconds()), "jti": secrets.token_urlsafe(16)}
    payload.update(claims)
    return jwt.encode({"alg": ALGORITHM, "kid": key.kid, "typ": "JWT"}, payload, key.key)
