"""bcrypt hashing, always off the event loop (a hash at the configured cost is a long stretch of CPU).

Equal work: every password check does exactly one bcrypt computation at the configured cost, whether the email
is known, unknown, or belongs to an account without a usable password (`verify_password` with no hash, or with a
stored value that is not a bcrypt hash, checks a dummy hash of that cost instead). So the time a wrong answer
takes does not tell which emails have accounts.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets

import bcrypt
from anyio import CapacityLimiter, to_thread

_BCRYPT_HASH = re.compile(r"^\$2[abxy]\$(\d\d)\$[./A-Za-z0-9]{53}$")

# One dummy hash per cost, made once per process, in a worker thread: see `_check_dummy`.
_dummy_hashes: dict[int, bytes] = {}


def bcrypt_cost(password_hash: str) -> int | None:
    """The cost of a bcrypt hash, or None when the value is not one (no usable password)."""
    match = _BCRYPT_HASH.match(password_hash)
    return int(match.group(1)) if match else None


def _hash(password: str, rounds: int) -> str:
    return bcrypt.hashpw(password.encode("utf-8")[:72], bcrypt.gensalt(rounds=rounds)).decode("ascii")


def _verify(password: str, password_hash: str) -> bool:
    try:
        return bcrypt.checkpw(password.encode("utf-8")[:72], password_hash.encode("ascii"))
    except ValueError:
        return False


def _check_dummy(password: str, rounds: int) -> bool:
    """One bcrypt computation at `rounds`, always False. The first call of a process makes the dummy hash instead of
    checking against it: making it is one computation at the same cost, so even that call costs what every other
    check costs (and no start-up hook is needed)."""
    dummy = _dummy_hashes.get(rounds)
    if dummy is None:
        _dummy_hashes[rounds] = bcrypt.hashpw(secrets.token_bytes(18), bcrypt.gensalt(rounds=rounds))
        return False
    bcrypt.checkpw(password.encode("utf-8")[:72], dummy)
    return False


# At most cores - 1 hashes at once: a login storm then queues for bcrypt instead of taking every core from the event
# loop, so every other request (and /health) keeps answering. One limiter per event loop.
_HASH_SLOTS = max(1, (os.cpu_count() or 2) - 1)
_limiters: dict[int, CapacityLimiter] = {}


def _limiter() -> CapacityLimiter:
    key = id(asyncio.get_running_loop())
    limiter = _limiters.get(key)
    if limiter is None:
        limiter = _limiters[key] = CapacityLimiter(_HASH_SLOTS)
    return limiter


async def hash_password(password: str, rounds: int) -> str:
    return await to_thread.run_sync(_hash, password, rounds, limiter=_limiter())


async def verify_password(password: str, password_hash: str | None, rounds: int) -> bool:
    """Whether `password` matches `password_hash`. With no usable hash (unknown email, account without a password)
    the answer is False after the same work: a check against the dummy hash at `rounds`, the configured cost."""
    if password_hash is None or bcrypt_cost(password_hash) is None:
        return await to_thread.run_sync(_check_dummy, password, rounds, limiter=_limiter())
    return await to_thread.run_sync(_verify, password, password_hash, limiter=_limiter())


def needs_rehash(password_hash: str, rounds: int) -> bool:
    """A hash made at another cost than the configured one (an older setting) is replaced on the next sign-in, so
    checks against known accounts converge on the cost the dummy hash has."""
    return bcrypt_cost(password_hash) not in (None, rounds)


MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_BYTES = 72  # bcrypt ignores everything after 72 bytes; refuse rather than silently truncate


def check_password_policy(password: str) -> str:
    """Return `password` if it meets the policy, else raise ValueError saying what is missing."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"The password must be at least {MIN_PASSWORD_LENGTH} characters long.")
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        raise ValueError(f"The password must be at most {MAX_PASSWORD_BYTES} bytes long.")
    if not any(ch.isalpha() for ch in password) or not any(ch.isdigit() for ch in password):
        raise ValueError("The password must contain at least one letter and one digit.")
    return password
