"""`twosigma admin create` against a scratch database (sync tests: the CLI runs its own event loop)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from tests.fixtures.database import create_scratch_database, drop_database
from twosigma.cli import app
from twosigma.config import get_settings


@pytest.fixture(scope="module")
def scratch_url(server_url: str) -> Iterator[str]:
    url = asyncio.run(create_scratch_database(server_url))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TWOSIGMA_DATABASE_URL", url)
        patch.setenv("TWOSIGMA_BCRYPT_ROUNDS", "4")
        get_settings.cache_clear()
        yield url
    get_settings.cache_clear()
    asyncio.run(drop_database(url))


def query(url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    async def run() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False))
        try:
            return list(await conn.fetch(sql, *args))
        finally:
            await conn.close()

    return asyncio.run(run())


ROLES_OF = """
    SELECT un.short_code, un.name, c.code AS country, r.role::text AS role
    FROM user_university_roles r
    JOIN users u ON u.id = r.user_id
    JOIN universities un ON un.id = r.university_id
    JOIN countries c ON c.id = un.country_id
    WHERE u.email = $1
"""


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, ["admin", "create", *args])


class TestAdminCreate:
    def test_creates_a_platform_admin_held_by_the_platform_tenant(self, scratch_url: str) -> None:
        result = invoke("--email", "Root@Example.edu", "--password", "admin-pass-1", "--full-name", "Root")
        assert result.exit_code == 0, result.output
        assert "granted PLATFORM_ADMIN" in result.output
        users = query(scratch_url, "SELECT full_name, password_hash FROM users WHERE email = $1", "root@example.edu")
        assert users[0]["full_name"] == "Root"
        assert users[0]["password_hash"].startswith("$2")
        roles = query(scratch_url, ROLES_OF, "root@example.edu")
        assert [(r["short_code"], r["name"], r["country"], r["role"]) for r in roles] == [
            ("PLATFORM", "Platform administration", "ZZ", "PLATFORM_ADMIN")
        ]

    def test_running_it_again_is_harmless(self, scratch_url: str) -> None:
        assert invoke("--email", "again@example.edu", "--password", "admin-pass-1").exit_code == 0
        result = invoke("--email", "again@example.edu", "--password", "other-pass-2")
        assert result.exit_code == 0, result.output
        assert "already PLATFORM_ADMIN" in result.output
        assert len(query(scratch_url, ROLES_OF, "again@example.edu")) == 1
        assert len(query(scratch_url, "SELECT 1 FROM universities WHERE short_code = 'PLATFORM'")) == 1

    def test_promotes_an_existing_user_in_a_named_university(self, scratch_url: str) -> None:
        query(scratch_url, "INSERT INTO countries (code, name) VALUES ('PT', 'Portugal') ON CONFLICT DO NOTHING")
        query(
            scratch_url,
            "INSERT INTO universities (name, short_code, country_id) "
            "SELECT 'Universidade', 'UNIV', id FROM countries WHERE code = 'PT'",
        )
        query(
            scratch_url,
            "INSERT INTO users (email, password_hash, full_name) VALUES ('member@example.edu', 'x', 'Member')",
        )
        result = invoke("--email", "member@example.edu", "--university", "univ")
        assert result.exit_code == 0, result.output
        assert "Found existing user" in result.output
        assert [(r["short_code"], r["role"]) for r in query(scratch_url, ROLES_OF, "member@example.edu")] == [
            ("UNIV", "PLATFORM_ADMIN")
        ]
        hashes = query(scratch_url, "SELECT password_hash FROM users WHERE email = 'member@example.edu'")
        assert hashes[0]["password_hash"] == "x"

    def test_a_weak_password_is_refused(self, scratch_url: str) -> None:
        result = invoke("--email", "weak@example.edu", "--password", "password")
        assert result.exit_code == 1
        assert "letter and one digit" in result.output
        assert query(scratch_url, "SELECT 1 FROM users WHERE email = 'weak@example.edu'") == []

    def test_a_new_account_needs_a_password(self, scratch_url: str) -> None:
        result = invoke("--email", "nopass@example.edu")
        assert result.exit_code == 1
        assert "A new account needs a password" in result.output
        assert "--password-stdin" in result.output

    def test_an_unknown_university_is_refused(self, scratch_url: str) -> None:
        result = invoke("--email", "lost@example.edu", "--password", "admin-pass-1", "--university", "NOPE")
        assert result.exit_code == 1
        assert "No university" in result.output
        assert query(scratch_url, "SELECT 1 FROM users WHERE email = 'lost@example.edu'") == []

    def test_a_malformed_email_is_refused(self, scratch_url: str) -> None:
        result = invoke("--email", "not-an-email", "--password", "admin-pass-1")
        assert result.exit_code == 1
        assert "Not a valid email" in result.output
