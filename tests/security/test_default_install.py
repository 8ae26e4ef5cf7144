"""A default install (no TWOSIGMA_SECRET_KEY, no TWOSIGMA_ENCRYPTION_KEYS) that nobody can walk into.

Each test is an install of its own: a fresh data directory and nothing configured but what the test says. The
settings come from where the server and the commands get theirs (get_settings()); the app is the real one, on the
test database.
"""

from __future__ import annotations

import asyncio
import json
import os
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
from twosigma.config import Settings, get_settings
from twosigma.db.engine import Database
from twosigma.enums import UserRole
from twosigma.users.models import User

# The development key the source used to carry (and anyone could read): it must open nothing any more.
OLD_PUBLIC_KEY = "dev-insecure-secret-key-change-me-0123456789abcdef"
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
