"""bcrypt hashing, always off the event loop (a hash at cost 12 takes a quarter of a second of CPU)."""

from __future__ import annotations

import asyncio
import os

import bcrypt
from anyio import CapacityLimiter, to_thread

# Compared against when the email is unknown, so both failures cost the same time.
_DUMMY_HASH = bcrypt.hashpw(b"twosigma-timing-equaliser", bcrypt.gensalt(rounds=4))


def _hash(password: str, rounds: int) -> str:
    return bcrypt.hashpw(password.encode("utf-8")[:72], bcrypt.gensalt(rounds=rounds)).decode("ascii")


def _verify(password: str, password_hash: str) -> bool:
    try:
        return bcrypt.checkpw(password.encode("utf-8")[:72], password_hash.encode("ascii"))
    except ValueError:
        return False


# At most cores - 1 hashes at once: a login storm then queues for bcrypt instead of taking every core from the event
# loop, so every other request (and /health) keeps answering (bench scenario 6). One limiter per event loop.
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


async def verify_password(password: str, password_hash: str | None) -> bool:
    if password_hash is None:
        await to_thread.run_sync(_verify, password, _DUMMY_HASH.decode("ascii"), limiter=_limiter())
        return False
    return await to_thread.run_sync(_verify, password, password_hash, limiter=_limiter())


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
