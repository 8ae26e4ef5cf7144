"""The secrets a development install generates for itself and keeps in its data directory.

With no `TWOSIGMA_SECRET_KEY` (or no `TWOSIGMA_ENCRYPTION_KEYS`) configured, the first process to start on a data
directory writes `secrets.json` there (mode 0600): a random JWT signing secret and a Fernet key. Every later
process on that data directory, the server and every command alike, reads the same file, so tokens, API key hashes
and encrypted settings stay valid across restarts and agree between the CLI and the server.

Whoever could replace that file could sign in as anyone, so it is trusted only in a data directory nobody else can
write to (owned by us or root, no group or other write bit) and only as a regular file of our own with a single
name: a symbolic link, a FIFO, another user's file or a hard link is refused, never followed, chmod'ed or read.
Every check is made on open descriptors (O_NOFOLLOW, fstat, fchmod), so nothing can be swapped in between a check
and its use. POSIX only: elsewhere configure the secrets.

The file is never regenerated behind the operator's back: replacing it signs everyone out, invalidates every API
key and makes every encrypted setting unreadable, so a damaged or refused file stops start-up with instructions
instead. Production never reads or writes it (config.py): it runs on the secrets it is given.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.fernet import Fernet

logger = logging.getLogger(__name__)

SECRETS_FILE = "secrets.json"
FILE_MODE = 0o600
DIR_MODE = 0o700
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
    _require_posix()
    try:
        dir_fd = _open_data_dir(data_dir)
    except FileNotFoundError:
        return None
    try:
        return _read(data_dir, dir_fd)
    finally:
        os.close(dir_fd)


def load_or_create_kept_secrets(data_dir: Path) -> KeptSecrets:
    """The kept secrets of `data_dir`, generated on first use. Safe when several processes start at once: creators
    take turns on a lock of the directory, and the file appears complete, with a single name, or not at all (written
    aside, then renamed into place)."""
    _require_posix()
    # 0700 whatever the umask (many distributions give users 002): a directory we made must pass our own check.
    data_dir.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    dir_fd = _open_data_dir(data_dir)
    try:
        _check_data_dir(data_dir, dir_fd)
        kept = _read(data_dir, dir_fd)
        if kept is not None:
            return kept
        with _locked(dir_fd):
            kept = _read(data_dir, dir_fd)  # another process may have created it while we waited
            if kept is None:
                _create(data_dir, dir_fd)
                kept = _read(data_dir, dir_fd)
    finally:
        os.close(dir_fd)
    if kept is None:  # pragma: no cover - only if someone deletes the file between our rename and our read
        raise KeptSecretsError(f"{secrets_path(data_dir)} disappeared while it was being created.")
    return kept


def _require_posix() -> None:
    if os.name != "posix":
        raise KeptSecretsError(
            "Generated secrets are kept only on POSIX systems; set TWOSIGMA_SECRET_KEY and TWOSIGMA_ENCRYPTION_KEYS."
        )


def _open_data_dir(data_dir: Path) -> int:
    """A descriptor of `data_dir` (which may itself be a symlink: an operator's choice, not a file in it)."""
    try:
        return os.open(data_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise KeptSecretsError(f"Cannot open the data directory {data_dir}: {exc.strerror}.") from None


def _check_data_dir(data_dir: Path, dir_fd: int) -> None:
    info = os.fstat(dir_fd)
    euid = os.geteuid()
    if info.st_uid not in (euid, 0):
        raise KeptSecretsError(
            f"Refusing the data directory {data_dir}: it is owned by uid {info.st_uid}, not by uid {euid} that runs "
            f"twosigma (or root), so its owner could replace the secrets file; run `chown {euid} {data_dir}`."
        )
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o022:
        raise KeptSecretsError(
            f"Refusing the data directory {data_dir}: group or others can write to it (mode {mode:o}), so they could "
            f"replace the secrets file; run `chmod go-w {data_dir}`."
        )


def _read(data_dir: Path, dir_fd: int) -> KeptSecrets | None:
    path = secrets_path(data_dir)
    try:
        # O_NONBLOCK: a FIFO planted in its place must be refused below, not wait for a writer forever.
        fd = os.open(SECRETS_FILE, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dir_fd)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if _is_symlink(dir_fd):
            raise KeptSecretsError(
                f"{path} is a symbolic link; the secrets file must be a regular file in the data directory "
                "(refusing to follow it: whoever controls the link's target would control the install's secrets)."
            ) from None
        raise KeptSecretsError(f"Cannot read {path}: {exc.strerror}.") from None
    try:
        _check_data_dir(data_dir, dir_fd)
        info = os.fstat(fd)
        _check_file(path, info)
        _tighten_mode(path, fd, info)
        with os.fdopen(os.dup(fd), "rb") as handle:
            raw = handle.read()
    finally:
        os.close(fd)
    return _parse(path, raw)


def _is_symlink(dir_fd: int) -> bool:
    # O_NOFOLLOW fails with ELOOP on Linux, EMLINK on FreeBSD: ask the directory rather than the errno.
    try:
        return stat.S_ISLNK(os.stat(SECRETS_FILE, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


def _check_file(path: Path, info: os.stat_result) -> None:
    euid = os.geteuid()
    if not stat.S_ISREG(info.st_mode):
        raise KeptSecretsError(f"{path} is not a regular file; move it away (or restore the real one from a backup).")
    if info.st_uid != euid:
        raise KeptSecretsError(
            f"{path} is owned by uid {info.st_uid}, not by uid {euid} that runs twosigma, so it may have been planted "
            f"to sign in as anyone; if it really is this install's file, `chown {euid} {path}`, otherwise remove it."
        )
    if info.st_nlink != 1:
        raise KeptSecretsError(
            f"{path} has {info.st_nlink} hard links, so it can be changed under another name; give it a name of its "
            f"own: `cp -p {path} {path}.new && mv {path}.new {path}`."
        )


def _tighten_mode(path: Path, fd: int, info: os.stat_result) -> None:
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        logger.warning("%s was readable by others (mode %o); setting it to 0600", path, mode)
        os.fchmod(fd, FILE_MODE)


@contextlib.contextmanager
def _locked(dir_fd: int) -> Iterator[None]:
    import fcntl  # POSIX only, like the rest of this module (_require_posix)

    fcntl.flock(dir_fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(dir_fd, fcntl.LOCK_UN)


def _create(data_dir: Path, dir_fd: int) -> None:
    """Write new secrets aside and rename them into place; the caller holds the directory's lock, so the rename
    never replaces another process's file."""
    content = {
        "version": FORMAT_VERSION,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "secret_key": secrets.token_urlsafe(48),
        "encryption_key": Fernet.generate_key().decode(),
    }
    aside = f".secrets-{secrets.token_hex(8)}.tmp"
    # Created 0600 and exclusively (no file, no symlink of that name may exist), so never readable by others.
    fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, FILE_MODE, dir_fd=dir_fd)
    try:
        os.fchmod(fd, FILE_MODE)  # exactly 0600, whatever the umask took away
        with os.fdopen(os.dup(fd), "w", encoding="utf-8") as handle:
            json.dump(content, handle, indent=2)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.rename(aside, SECRETS_FILE, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(aside, dir_fd=dir_fd)
        raise
    finally:
        os.close(fd)
    os.fsync(dir_fd)  # the new name survives a crash
    logger.warning(
        "generated a secret key and an encryption key for this install in %s (keep it, back it up; "
        "production needs TWOSIGMA_SECRET_KEY and TWOSIGMA_ENCRYPTION_KEYS instead)",
        secrets_path(data_dir),
    )


def _parse(path: Path, raw: bytes) -> KeptSecrets:
    damaged = (
        f"{path} is damaged. Restore it from a backup, or move it away to generate new secrets (which signs "
        "everyone out, invalidates every API key and leaves encrypted settings unreadable)."
    )
    try:
        content = json.loads(raw.decode("utf-8"))
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
