"""The secrets a development install generates for itself and keeps in its data directory.

With no `TWOSIGMA_SECRET_KEY` (or no `TWOSIGMA_ENCRYPTION_KEYS`) configured, the first process to start on a data
directory writes `secrets.json` there (mode 0600): a random JWT signing secret and a Fernet key. Every later
process on that data directory, the server and every command alike, reads the same file, so tokens, API key hashes
and encrypted settings stay valid across restarts and agree between the CLI and the server.

The file is never regenerated behind the operator's back: replacing it signs everyone out, invalidates every API
key and makes every encrypted setting unreadable, so a damaged file stops start-up with instructions instead.
Production never reads or writes it (config.py): it runs on the secrets it is given.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import stat
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.fernet import Fernet

logger = logging.getLogger(__name__)

SECRETS_FILE = "secrets.json"
FILE_MODE = 0o600
FORMAT_VERSION = 1
MIN_SECRET_KEY_LENGTH = 32


class KeptSecretsError(ValueError):
    """The kept secrets file exists but cannot be used (unreadable, not ours, damaged)."""


@dataclass(frozen=True)
class KeptSecrets:
    path: Path
    secret_key: str
    encryption_key: str


def secrets_path(data_dir: Path) -> Path:
    return data_dir / SECRETS_FILE


def read_kept_secrets(data_dir: Path) -> KeptSecrets | None:
    """The kept secrets of `data_dir`, or None when it has none yet."""
    path = secrets_path(data_dir)
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise KeptSecretsError(f"Cannot read {path}: {exc.strerror}.") from None
    _tighten_mode(path)
    return _parse(path, raw)


def load_or_create_kept_secrets(data_dir: Path) -> KeptSecrets:
    """The kept secrets of `data_dir`, generated on first use. Safe when several processes start at once: the file
    appears complete or not at all (written aside, then hard-linked into place, which fails if another won)."""
    kept = read_kept_secrets(data_dir)
    if kept is not None:
        return kept
    data_dir.mkdir(parents=True, exist_ok=True)
    path = secrets_path(data_dir)
    content = {
        "version": FORMAT_VERSION,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "secret_key": secrets.token_urlsafe(48),
        "encryption_key": Fernet.generate_key().decode(),
    }
    # mkstemp creates the file with mode 0600, so the secrets are never readable by others, not even briefly.
    fd, aside = tempfile.mkstemp(prefix=".secrets-", suffix=".tmp", dir=data_dir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(content, handle, indent=2)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(aside, path)
        except FileExistsError:
            pass  # another process got there first; its secrets are the ones
        else:
            logger.warning(
                "generated a secret key and an encryption key for this install in %s (keep it, back it up; "
                "production needs TWOSIGMA_SECRET_KEY and TWOSIGMA_ENCRYPTION_KEYS instead)",
                path,
            )
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(aside)
    kept = read_kept_secrets(data_dir)
    if kept is None:  # pragma: no cover - only if someone deletes the file between our link and our read
        raise KeptSecretsError(f"{path} disappeared while it was being created.")
    return kept


def _tighten_mode(path: Path) -> None:
    if os.name != "posix":
        return
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        logger.warning("%s was readable by others (mode %o); setting it to 0600", path, mode)
        path.chmod(FILE_MODE)


def _parse(path: Path, raw: str) -> KeptSecrets:
    damaged = (
        f"{path} is damaged. Restore it from a backup, or move it away to generate new secrets (which signs "
        "everyone out, invalidates every API key and leaves encrypted settings unreadable)."
    )
    try:
        content = json.loads(raw)
    except ValueError:
        raise KeptSecretsError(damaged) from None
    if not isinstance(content, dict):
        raise KeptSecretsError(damaged)
    secret_key = content.get("secret_key")
    encryption_key = content.get("encryption_key")
    if not isinstance(secret_key, str) or len(secret_key) < MIN_SECRET_KEY_LENGTH:
        raise KeptSecretsError(damaged)
    if not isinstance(encryption_key, str):
        raise KeptSecretsError(damaged)
    try:
        Fernet(encryption_key.encode())
    except ValueError:
        raise KeptSecretsError(damaged) from None
    return KeptSecrets(path=path, secret_key=secret_key, encryption_key=encryption_key)
