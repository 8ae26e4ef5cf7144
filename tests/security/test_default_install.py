"""A default install (no TWOSIGMA_SECRET_KEY, no TWOSIGMA_ENCRYPTION_KEYS) that nobody can walk into.

Each test is an install of its own: a fresh data directory and nothing configured but what the test says. The
settings come from where the server and the commands get theirs (get_settings()); the app is the real one, on the
test database.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import re
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import jwt
import pytest
from cryptography.fernet import Fernet
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from tests.fixtures.database import create_scratch_database, drop_database
from tests.fixtures.factories import access_token, make_member, make_university
from tests.fixtures.prompts import make_api_key
from twosigma.app import create_app
from twosigma.cli import app as cli_app
from twosigma.config import ConfigError, Settings, get_settings
from twosigma.db.engine import Database
from twosigma.enums import UserRole
from twosigma.kept_secrets import load_or_create_kept_secrets
from twosigma.users.models import User

# The development key the source used to carry (and anyone could read): it must open nothing any more.
OLD_PUBLIC_KEY = "dev-insecure-secret-key-change-me-0123456789abcdef"
# What someone who can write into the data directory would plant: a key they know, to forge anyone's token with.
PLANTED_KEY = "planted-by-someone-who-can-write-the-data-dir-0123456789"
NOBODY = 65534
SECRET = "sk-default-install-secret-wxyz"

Install = Callable[[], Settings]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def install(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Install]:
    """Start the install's settings the way `twosigma serve` and every command do, nothing configured but the data
    directory; each call is a new start (a new process would read the environment and the data dir again)."""
    for name in list(os.environ):
        if name.startswith("TWOSIGMA_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("TWOSIGMA_DATA_DIR", str(data_dir))
    monkeypatch.setenv("TWOSIGMA_BCRYPT_ROUNDS", "4")
    monkeypatch.chdir(tmp_path)  # no .env from wherever the tests run

    def start() -> Settings:
        get_settings.cache_clear()
        return get_settings()

    yield start
    get_settings.cache_clear()


@pytest.fixture
async def admin(db: AsyncSession) -> User:
    return await make_member(db, await make_university(db), UserRole.PLATFORM_ADMIN)


@pytest.fixture
def serve_app(
    db_engine: AsyncEngine, test_sessionmaker: async_sessionmaker[AsyncSession]
) -> Callable[[Settings], httpx.AsyncClient]:
    """A client of the app a server builds from `settings`, on the test's database."""

    def make(settings: Settings) -> httpx.AsyncClient:
        app = create_app(settings=settings, database=Database(engine=db_engine, sessionmaker=test_sessionmaker))
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")

    return make


def forged_admin_token(user_id: int, key: str) -> str:
    now = int(time.time())
    claims = {"sub": str(user_id), "type": "access", "iat": now, "exp": now + 600, "jti": "forged-by-anyone"}
    return jwt.encode(claims, key, algorithm="HS256")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class TestTokens:
    async def test_a_token_forged_with_the_old_public_development_key_is_401(
        self, install: Install, admin: User, serve_app: Callable[[Settings], httpx.AsyncClient]
    ) -> None:
        settings = install()
        async with serve_app(settings) as client:
            forged = await client.get("/api/v1/users/me", headers=bearer(forged_admin_token(admin.id, OLD_PUBLIC_KEY)))
            own = await client.get("/api/v1/users/me", headers=bearer(access_token(settings, admin)))
        assert forged.status_code == 401
        assert forged.json()["error"]["code"] == "invalid_token"
        assert own.status_code == 200

    async def test_a_restart_on_the_same_data_dir_keeps_tokens_and_api_keys_valid(
        self,
        install: Install,
        admin: User,
        db: AsyncSession,
        data_dir: Path,
        serve_app: Callable[[Settings], httpx.AsyncClient],
    ) -> None:
        first = install()
        token = access_token(first, admin)
        _, basic = await make_api_key(db, first)
        assert (data_dir / "secrets.json").exists()

        second = install()
        async with serve_app(second) as client:
            me = await client.get("/api/v1/users/me", headers=bearer(token))
            prompts = await client.get("/api/public/v2/prompts", headers=basic)
        assert me.status_code == 200
        assert prompts.status_code == 200

    async def test_another_install_does_not_accept_this_installs_tokens(
        self,
        install: Install,
        admin: User,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        serve_app: Callable[[Settings], httpx.AsyncClient],
    ) -> None:
        token = access_token(install(), admin)
        monkeypatch.setenv("TWOSIGMA_DATA_DIR", str(tmp_path / "another"))
        async with serve_app(install()) as client:
            response = await client.get("/api/v1/users/me", headers=bearer(token))
        assert response.status_code == 401


class TestTheKeptFile:
    def test_the_generated_secrets_are_kept_in_the_data_dir_readable_by_the_owner_only(
        self, install: Install, data_dir: Path
    ) -> None:
        settings = install()
        path = data_dir / "secrets.json"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        kept = json.loads(path.read_text())
        assert settings.secret_key is not None
        assert kept["secret_key"] == settings.secret_key.get_secret_value()
        assert len(kept["secret_key"]) >= 32
        assert kept["secret_key"] != OLD_PUBLIC_KEY
        Fernet(kept["encryption_key"].encode())
        assert [key.get_secret_value() for key in settings.encryption_keys] == [kept["encryption_key"]]
        assert [p.name for p in data_dir.iterdir()] == ["secrets.json"]  # nothing left aside

    def test_a_kept_file_others_could_read_is_closed_again(self, install: Install, data_dir: Path) -> None:
        install()
        path = data_dir / "secrets.json"
        path.chmod(0o644)
        install()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600

    def test_configured_secrets_win_and_leave_the_data_dir_alone(
        self, install: Install, data_dir: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        key = Fernet.generate_key().decode()
        monkeypatch.setenv("TWOSIGMA_SECRET_KEY", "s" * 48)
        monkeypatch.setenv("TWOSIGMA_ENCRYPTION_KEYS", key)
        settings = install()
        assert settings.secret_key is not None
        assert settings.secret_key.get_secret_value() == "s" * 48
        assert [k.get_secret_value() for k in settings.encryption_keys] == [key]
        assert not data_dir.exists()

    def test_a_damaged_file_stops_every_command_and_is_never_replaced(self, install: Install, data_dir: Path) -> None:
        data_dir.mkdir()
        path = data_dir / "secrets.json"
        path.write_text('{"secret_key": "short"}')
        result = CliRunner().invoke(cli_app, ["db", "current"])
        output = " ".join(result.output.split())  # rich wraps long lines
        assert result.exit_code == 2
        assert output.startswith("Configuration error: ")
        assert "secrets.json is damaged" in output
        assert path.read_text() == '{"secret_key": "short"}'


def plant(path: Path) -> str:
    """A well-formed secrets file whose secret key the planter knows; returns its content."""
    content = json.dumps({"version": 1, "secret_key": PLANTED_KEY, "encryption_key": Fernet.generate_key().decode()})
    path.write_text(content)
    return content


def generate_in_a_child(data_dir: str, start: Any, results: Any) -> None:
    start.wait()
    results.put(load_or_create_kept_secrets(Path(data_dir)).secret_key)


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user (os.chown)")


class TestAFileSomeoneElseCouldHavePlanted:
    def test_a_symlinked_secrets_file_stops_every_command_and_its_target_keeps_its_mode(
        self, install: Install, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("TWOSIGMA_DATABASE_URL", "postgresql+asyncpg://x@127.0.0.1:9/x")  # never reached
        victim = tmp_path / "victim"
        content = plant(victim)
        victim.chmod(0o644)
        data_dir.mkdir(mode=0o700)
        (data_dir / "secrets.json").symlink_to("../victim")
        result = CliRunner().invoke(cli_app, ["settings", "get", "llm.provider"])
        output = " ".join(result.output.split())
        assert result.exit_code == 2, result.output
        assert output.startswith("Configuration error: ")
        assert "secrets.json is a symbolic link" in output
        assert stat.S_IMODE(victim.stat().st_mode) == 0o644
        assert victim.read_text() == content

    @needs_root
    def test_a_secrets_file_owned_by_another_user_is_refused(self, install: Install, data_dir: Path) -> None:
        data_dir.mkdir(mode=0o700)
        path = data_dir / "secrets.json"
        content = plant(path)
        path.chmod(0o600)
        os.chown(path, NOBODY, NOBODY)
        with pytest.raises(ConfigError, match=re.escape(f"secrets.json is owned by uid {NOBODY}, not by uid 0")):
            install()
        assert path.read_text() == content

    def test_a_hard_linked_secrets_file_is_refused(self, install: Install, data_dir: Path, tmp_path: Path) -> None:
        install()
        os.link(data_dir / "secrets.json", tmp_path / "another-name")
        with pytest.raises(ConfigError, match=re.escape("secrets.json has 2 hard links")):
            install()

    def test_a_fifo_in_place_of_the_secrets_file_is_refused_without_waiting_on_it(
        self, install: Install, data_dir: Path
    ) -> None:
        data_dir.mkdir(mode=0o700)
        os.mkfifo(data_dir / "secrets.json", 0o600)
        with pytest.raises(ConfigError, match=re.escape("secrets.json is not a regular file")):
            install()


class TestTheDataDir:
    @pytest.mark.parametrize("mode", [0o770, 0o707, 0o1777], ids=["group", "others", "others-sticky"])
    def test_a_data_dir_others_can_write_to_is_refused_before_anything_is_written(
        self, install: Install, data_dir: Path, mode: int
    ) -> None:
        data_dir.mkdir()
        data_dir.chmod(mode)
        with pytest.raises(ConfigError, match=re.escape(f"chmod go-w {data_dir}")):
            install()
        assert list(data_dir.iterdir()) == []

    def test_kept_secrets_in_a_data_dir_that_became_writable_by_others_are_refused(
        self, install: Install, data_dir: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        install()
        data_dir.chmod(0o775)
        # Fully configured, the install still decrypts with the kept key: it must not take a planted one.
        monkeypatch.setenv("TWOSIGMA_SECRET_KEY", "s" * 48)
        monkeypatch.setenv("TWOSIGMA_ENCRYPTION_KEYS", Fernet.generate_key().decode())
        with pytest.raises(ConfigError, match="group or others can write to it"):
            install()

    @needs_root
    def test_a_data_dir_owned_by_another_user_is_refused(self, install: Install, data_dir: Path) -> None:
        data_dir.mkdir(mode=0o700)
        os.chown(data_dir, NOBODY, NOBODY)
        with pytest.raises(ConfigError, match=f"is owned by uid {NOBODY}"):
            install()
        assert list(data_dir.iterdir()) == []

    def test_a_first_start_under_a_group_writable_umask_makes_a_data_dir_only_its_owner_can_write(
        self, install: Install, data_dir: Path
    ) -> None:
        previous = os.umask(0o002)  # the default umask of users on many distributions
        try:
            first = install()
            second = install()
        finally:
            os.umask(previous)
        assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
        assert stat.S_IMODE((data_dir / "secrets.json").stat().st_mode) == 0o600
        assert first.secret_key == second.secret_key

    def test_processes_starting_at_once_on_a_fresh_data_dir_all_get_the_same_secrets(self, data_dir: Path) -> None:
        context = multiprocessing.get_context("fork")
        start = context.Barrier(6)
        results = context.Queue()
        children = [context.Process(target=generate_in_a_child, args=(str(data_dir), start, results)) for _ in range(6)]
        for child in children:
            child.start()
        keys = {results.get(timeout=60) for _ in children}
        for child in children:
            child.join(timeout=60)
        assert [child.exitcode for child in children] == [0] * 6
        assert len(keys) == 1
        assert json.loads((data_dir / "secrets.json").read_text())["secret_key"] in keys
        assert [p.name for p in data_dir.iterdir()] == ["secrets.json"]


@pytest.fixture
def scratch_url(server_url: str, install: Install, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = asyncio.run(create_scratch_database(server_url))
    monkeypatch.setenv("TWOSIGMA_DATABASE_URL", url)
    yield url
    asyncio.run(drop_database(url))


def run(*args: str) -> str:
    get_settings.cache_clear()  # every command is a new process
    result = CliRunner().invoke(cli_app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def stored_ciphertext(url: str, key: str) -> Any:
    async def fetch() -> Any:
        conn = await asyncpg.connect(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False))
        try:
            return await conn.fetchval("SELECT setting_value FROM system_settings WHERE setting_key = $1", key)
        finally:
            await conn.close()

    return asyncio.run(fetch())


class TestEncryptedSettings:
    def test_a_secret_setting_needs_no_configuration_and_outlives_keys_configured_later(
        self, scratch_url: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        run("db", "upgrade")
        assert "••••wxyz" in run("settings", "set", "llm.openai_api_key", SECRET)
        assert "••••wxyz" in run("settings", "get", "llm.openai_api_key")

        # The operator configures keys of their own later: what the kept key encrypted is still readable...
        configured = Fernet.generate_key().decode()
        monkeypatch.setenv("TWOSIGMA_ENCRYPTION_KEYS", configured)
        assert "••••wxyz" in run("settings", "get", "llm.openai_api_key")
        # ...and rotation moves it under their key.
        assert "Re-encrypted 1 setting(s)" in run("settings", "rotate-key")
        token = stored_ciphertext(scratch_url, "llm.openai_api_key")
        assert json.loads(Fernet(configured.encode()).decrypt(token.encode())) == SECRET
