"""`twosigma doctor` against a fully configured install: a database of its own at head, a secret setting, the fake
Anthropic API, aiosmtpd, our OIDC provider for one university, workers that drained a minute ago. Everything passes;
then each part is broken in turn and exactly its check fails (with its fix), and the command exits 1.

The install also holds a university's own LLM key (governance), the LTI tool's signing key and one registered LTI
platform (the test platform of tests/fixtures/lti_platform.py): the stored-secrets check opens them all, and the LTI
check opens the tool's key and fetches the platform's JWKS. No embedding provider is configured on the full install
(retrieval is full-text only: skipped); TestRetrieval configures the fake `/embeddings` server.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import text
from typer.testing import CliRunner

from tests.fakes import FakeAnthropic
from tests.fakes.embeddings import FakeEmbeddings
from tests.fakes.llm import Mode
from tests.fixtures.content import make_content_item, make_module, root_of
from tests.fixtures.courses import make_campus
from tests.fixtures.database import create_scratch_database, drop_database
from tests.fixtures.factories import make_university
from tests.fixtures.lti_platform import CLIENT_ID, TestPlatform, running_platform
from tests.fixtures.oidc_provider import OidcProvider, running_provider
from tests.fixtures.smtp import SmtpServer, free_port
from twosigma.cli import app as cli_app
from twosigma.config import Environment, Settings, get_settings
from twosigma.db.bootstrap import committed_session, engine_on
from twosigma.governance.schemas import UniversitySettingWrite
from twosigma.governance.services import university_settings
from twosigma.jobs.models import JobQueueRun
from twosigma.lti.models import LtiPlatform
from twosigma.lti.services import keys as lti_keys
from twosigma.ops import doctor
from twosigma.ops.doctor import CheckResult, Status, run_doctor
from twosigma.sso.models import SsoProvider
from twosigma.system_settings import service as settings_service
from twosigma.system_settings.crypto import secret_box
from twosigma.system_settings.schemas import SettingWrite

KEY = Fernet.generate_key().decode()
SECRET = "doctor-test-secret-key-0123456789-abcdefghijklmnop"
QUEUES = ("chat_retention", "exports", "mail")


@dataclass
class Install:
    url: str
    settings: Settings
    smtp: SmtpServer
    oidc: OidcProvider
    anthropic: FakeAnthropic
    lti: TestPlatform


@pytest.fixture(scope="module")
def oidc() -> Iterator[OidcProvider]:
    with running_provider() as provider:
        yield provider


@pytest.fixture(scope="module")
def lti_platform() -> Iterator[TestPlatform]:
    with running_platform() as platform:
        yield platform


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.stop()


async def _configure(
    url: str, settings: Settings, smtp: SmtpServer, oidc: OidcProvider, anthropic_url: str, lti: TestPlatform
) -> None:
    async with engine_on(settings, url, upgrade=True) as engine, committed_session(engine) as session:
        stored = {
            "llm.provider": "anthropic",
            "llm.anthropic_api_key": "sk-ant-doctor-0123456789",  # secret: stored encrypted
            "llm.anthropic_base_url": anthropic_url,
            "llm.default_model": "claude-doctor-test",
            "llm.timeout_seconds": 5,
            "mail.smtp_host": "127.0.0.1",
            "mail.smtp_port": smtp.port,
            "mail.smtp_starttls": False,
        }
        for key, value in stored.items():
            await settings_service.put_setting(session, settings, key, SettingWrite(value=value))
        university = await make_university(session, short_code="DOC")
        session.add(
            SsoProvider(
                university_id=university.id,
                issuer=oidc.issuer,
                client_id="twosigma",
                client_secret_encrypted=secret_box(settings).encrypt("client-secret"),
                authorization_endpoint=f"{oidc.issuer}/authorize",
                token_endpoint=f"{oidc.issuer}/token",
                jwks_uri=f"{oidc.issuer}/jwks",
            )
        )
        await university_settings.put_setting(
            session, settings, university, "llm.openai_api_key", UniversitySettingWrite(value="sk-university-0123456")
        )
        await lti_keys.signing_key(session, settings)  # the tool's key, created and stored encrypted
        session.add(
            LtiPlatform(
                university_id=university.id,
                issuer=lti.issuer,
                client_id=CLIENT_ID,
                deployment_ids=["deployment-1"],
                auth_login_url=f"{lti.url}/authorize",
                auth_token_url=f"{lti.url}/token",
                jwks_url=f"{lti.url}/jwks",
            )
        )
        for queue in QUEUES:
            session.add(JobQueueRun(queue=queue, last_drained_at=datetime.now(UTC) - timedelta(seconds=30)))


@pytest.fixture
def install(
    server_url: str,
    smtp: SmtpServer,
    oidc: OidcProvider,
    fake_anthropic: FakeAnthropic,
    lti_platform: TestPlatform,
    tmp_path: Path,
) -> Iterator[Install]:
    url = asyncio.run(create_scratch_database(server_url))
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment=Environment.TEST,
        database_url=url,
        data_dir=tmp_path,
        secret_key=SecretStr(SECRET),
        encryption_keys=[SecretStr(KEY)],
    )
    asyncio.run(_configure(url, settings, smtp, oidc, fake_anthropic.url, lti_platform))
    yield Install(url=url, settings=settings, smtp=smtp, oidc=oidc, anthropic=fake_anthropic, lti=lti_platform)
    asyncio.run(drop_database(url))


def check(settings: Settings, *, offline: bool = False) -> dict[str, CheckResult]:
    return {result.name: result for result in asyncio.run(run_doctor(settings, offline=offline))}


def failures(results: dict[str, CheckResult]) -> list[str]:
    return sorted(name for name, result in results.items() if result.status is Status.FAIL)


async def _sql(settings: Settings, statement: str) -> None:
    async with engine_on(settings, str(settings.database_url)) as engine, committed_session(engine) as session:
        await session.execute(text(statement))


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


class TestAFullyConfiguredInstall:
    def test_every_check_passes_and_talks_to_the_real_thing(self, install: Install) -> None:
        results = check(install.settings)
        assert failures(results) == []
        statuses = {name: result.status for name, result in results.items()}
        assert statuses == {
            "JWT secret": Status.OK,
            "Encryption keys": Status.OK,
            "Database": Status.OK,
            "Clock": Status.OK,
            "Stored secrets": Status.OK,
            "LLM provider": Status.OK,
            "Embeddings": Status.SKIP,
            "Course index": Status.OK,
            "SMTP": Status.OK,
            "Single sign-on (DOC)": Status.OK,
            "LTI tool key": Status.OK,
            f"LTI platforms (DOC, {CLIENT_ID})": Status.OK,
            "Worker (chat_retention)": Status.OK,
            "Worker (exports)": Status.OK,
            "Worker (mail)": Status.OK,
            "Redis": Status.SKIP,
        }
        assert "all 4 encrypted value(s) decrypt" in results["Stored secrets"].detail
        assert "JWKS answers (1 key(s))" in results[f"LTI platforms (DOC, {CLIENT_ID})"].detail
        # The one-token call reached the fake, and no mail was sent to the SMTP server.
        assert install.anthropic.requests[-1].json()["max_tokens"] == 1
        assert install.smtp.inbox.messages == []

    def test_offline_calls_nobody(self, install: Install) -> None:
        before = len(install.anthropic.requests)
        jwks_before = install.lti.jwks_requests
        results = check(install.settings, offline=True)
        assert results["LTI platforms"].status is Status.SKIP
        assert install.lti.jwks_requests == jwks_before
        assert failures(results) == []
        assert results["LLM provider"].status is Status.SKIP
        assert results["SMTP"].status is Status.SKIP
        assert results["Single sign-on"].status is Status.SKIP
        assert len(install.anthropic.requests) == before


class TestEachPartBrokenInTurn:
    def test_a_weak_jwt_secret(self, install: Install) -> None:
        weak = install.settings.model_copy(update={"secret_key": SecretStr("short-secret")})
        results = check(weak, offline=True)
        assert failures(results) == ["JWT secret"]
        assert "secrets.token_urlsafe(48)" in str(results["JWT secret"].fix)
        repetitive = install.settings.model_copy(update={"secret_key": SecretStr("ab" * 20)})
        assert failures(check(repetitive, offline=True)) == ["JWT secret"]

    def test_a_key_that_cannot_decrypt_the_stored_secrets(self, install: Install) -> None:
        other = install.settings.model_copy(update={"encryption_keys": [SecretStr(Fernet.generate_key().decode())]})
        results = check(other, offline=True)
        assert "Stored secrets" in failures(results)
        detail = results["Stored secrets"].detail
        assert "4 of 4 cannot be decrypted" in detail
        assert "setting llm.anthropic_api_key" in detail
        assert "SSO client secret of university" in detail
        assert "setting llm.openai_api_key" in detail  # the university's own key (governance)
        assert "LTI tool key " in detail
        # The tool's signing key is checked by the LTI check too: it cannot sign with a key nobody can open.
        assert "LTI tool key" in failures(results)
        assert "TWOSIGMA_ENCRYPTION_KEYS" in str(results["Stored secrets"].fix)

    def test_no_encryption_key(self, install: Install) -> None:
        results = check(install.settings.model_copy(update={"encryption_keys": []}), offline=True)
        assert {"Encryption keys", "Stored secrets"} <= set(failures(results))

    def test_the_database_behind_head(self, install: Install) -> None:
        asyncio.run(_sql(install.settings, "UPDATE alembic_version SET version_num = '0007'"))
        results = check(install.settings, offline=True)
        assert failures(results) == ["Database"]
        assert "at revision 0007" in results["Database"].detail
        assert "twosigma db upgrade" in str(results["Database"].fix)

    def test_the_database_unreachable(self, install: Install) -> None:
        gone = install.settings.model_copy(
            update={"database_url": f"postgresql+asyncpg://nobody@127.0.0.1:{free_port()}/x"}
        )
        results = check(gone, offline=True)
        assert failures(results) == ["Database"]
        assert results["Workers"].status is Status.SKIP
        assert results["Workers"].detail == "needs the database"

    def test_the_llm_provider_failing(self, install: Install) -> None:
        install.anthropic.script(mode=Mode.ERROR, status=401)
        results = check(install.settings)
        assert failures(results) == ["LLM provider"]
        assert "did not answer" in results["LLM provider"].detail

    def test_the_llm_provider_not_configured(self, install: Install) -> None:
        asyncio.run(_sql(install.settings, "DELETE FROM system_settings WHERE setting_key = 'llm.provider'"))
        results = check(install.settings, offline=True)
        assert failures(results) == ["LLM provider"]
        assert "twosigma settings set llm.provider" in str(results["LLM provider"].fix)

    def test_smtp_down(self, install: Install) -> None:
        install.smtp.stop()
        results = check(install.settings)
        assert failures(results) == ["SMTP"]
        assert f"127.0.0.1:{install.smtp.port}" in results["SMTP"].detail

    def test_an_oidc_provider_unreachable(self, install: Install) -> None:
        issuer = f"http://127.0.0.1:{free_port()}"
        asyncio.run(_sql(install.settings, f"UPDATE university_sso_providers SET issuer = '{issuer}'"))
        results = check(install.settings)
        assert failures(results) == ["Single sign-on (DOC)"]
        assert "could not be reached" in results["Single sign-on (DOC)"].detail

    def test_an_lti_platforms_jwks_unreachable(self, install: Install) -> None:
        gone = f"http://127.0.0.1:{free_port()}/jwks"
        asyncio.run(_sql(install.settings, f"UPDATE lti_platforms SET jwks_url = '{gone}'"))
        results = check(install.settings)
        label = f"LTI platforms (DOC, {CLIENT_ID})"
        assert failures(results) == [label]
        assert gone in results[label].detail
        assert "could not be read" in results[label].detail
        assert "JWKS URL" in str(results[label].fix)

    def test_an_lti_platforms_jwks_without_keys(self, install: Install) -> None:
        asyncio.run(_sql(install.settings, f"UPDATE lti_platforms SET jwks_url = '{install.lti.url}/authorize'"))
        results = check(install.settings)
        assert failures(results) == [f"LTI platforms (DOC, {CLIENT_ID})"]

    def test_the_lti_tool_key_unreadable(self, install: Install) -> None:
        other = Fernet(Fernet.generate_key()).encrypt(b"{}").decode()
        asyncio.run(_sql(install.settings, f"UPDATE lti_tool_keys SET private_key_encrypted = '{other}'"))
        results = check(install.settings, offline=True)
        assert failures(results) == ["LTI tool key", "Stored secrets"]
        assert "deep linking and grade passback" in results["LTI tool key"].detail
        assert "1 of 4 cannot be decrypted: LTI tool key" in results["Stored secrets"].detail

    def test_a_university_secret_unreadable(self, install: Install) -> None:
        other = Fernet(Fernet.generate_key()).encrypt(b'"x"').decode()
        asyncio.run(_sql(install.settings, f"UPDATE university_settings SET setting_value = '{other}'"))
        results = check(install.settings, offline=True)
        assert failures(results) == ["Stored secrets"]
        assert "setting llm.openai_api_key" in results["Stored secrets"].detail

    def test_workers_that_stopped_draining(self, install: Install) -> None:
        asyncio.run(
            _sql(
                install.settings,
                "UPDATE job_queue_runs SET last_drained_at = now() - interval '2 hours' WHERE queue = 'mail'",
            )
        )
        asyncio.run(_sql(install.settings, "DELETE FROM job_queue_runs WHERE queue = 'exports'"))
        results = check(install.settings, offline=True)
        assert failures(results) == ["Worker (exports)", "Worker (mail)"]
        assert "last drained 120 min ago" in results["Worker (mail)"].detail
        assert "never drained" in results["Worker (exports)"].detail

    def test_the_clock_off(self, install: Install, monkeypatch: pytest.MonkeyPatch) -> None:
        real = doctor.time.time
        monkeypatch.setattr(doctor.time, "time", lambda: real() - 90)
        results = check(install.settings, offline=True)
        assert failures(results) == ["Clock"]
        assert "90" in results["Clock"].detail or "89" in results["Clock"].detail

    @pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server on this machine")
    def test_redis_configured_and_up(self, install: Install) -> None:
        port = free_port()
        server = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 10
            while not _listening(port):
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)
            up = install.settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{port}/0"})
            results = check(up, offline=True)
            assert results["Redis"].status is Status.OK
            assert "answered PING" in results["Redis"].detail
        finally:
            server.terminate()
            server.wait(timeout=10)

    def test_redis_configured_but_down(self, install: Install) -> None:
        down = install.settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
        results = check(down, offline=True)
        assert failures(results) == ["Redis"]


class TestTheCommand:
    def test_lines_exit_code_and_json(self, install: Install, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("TWOSIGMA_DATABASE_URL", install.url)
        monkeypatch.setenv("TWOSIGMA_SECRET_KEY", SECRET)
        monkeypatch.setenv("TWOSIGMA_ENCRYPTION_KEYS", KEY)
        monkeypatch.setenv("TWOSIGMA_DATA_DIR", str(install.settings.data_dir))
        get_settings.cache_clear()
        try:
            runner = CliRunner()
            healthy = runner.invoke(cli_app, ["doctor"])
            assert healthy.exit_code == 0, healthy.output
            assert "✓ Database" in healthy.output
            assert "Everything required passed." in healthy.output
            assert "✗" not in healthy.output

            install.smtp.stop()
            broken = runner.invoke(cli_app, ["doctor"])
            assert broken.exit_code == 1, broken.output
            smtp_line = next(line for line in broken.output.splitlines() if line.startswith("✗ SMTP"))
            assert "→ check mail.smtp_host" in smtp_line  # the fix on the same line
            assert "1 check(s) failed." in broken.output

            as_json = runner.invoke(cli_app, ["doctor", "--json"])
            assert as_json.exit_code == 1
            document = json.loads(as_json.output)
            assert document["ok"] is False
            assert {c["name"]: c["status"] for c in document["checks"]}["SMTP"] == "fail"
        finally:
            get_settings.cache_clear()


async def _put(settings: Settings, values: dict[str, object]) -> None:
    async with engine_on(settings, str(settings.database_url)) as engine, committed_session(engine) as session:
        for key, value in values.items():
            await settings_service.put_setting(session, settings, key, SettingWrite(value=value))


async def _unindexed_item(settings: Settings) -> None:
    """A published item written straight to the tables, as an upgrade leaves the content of before the index."""
    async with engine_on(settings, str(settings.database_url)) as engine, committed_session(engine) as session:
        campus = await make_campus(session)
        module = await make_module(session, parent=await root_of(session, campus.course))
        await make_content_item(session, module=module, data_json={"body": "Written before the index."})


class TestRetrieval:
    def _embeddings(self, install: Install, fake: FakeEmbeddings) -> None:
        values = {
            "llm.embedding_provider": "openai",
            "llm.embedding_model": "doctor-embed",
            "llm.embedding_base_url": f"{fake.url}/v1",
        }
        asyncio.run(_put(install.settings, values))

    def test_no_embedding_provider_is_skipped_as_full_text_only(self, install: Install) -> None:
        result = check(install.settings)["Embeddings"]
        assert result.status is Status.SKIP
        assert "retrieval is full-text only" in result.detail

    def test_a_configured_provider_answers_one_text(self, install: Install, fake_embeddings: FakeEmbeddings) -> None:
        self._embeddings(install, fake_embeddings)
        results = check(install.settings)
        assert failures(results) == []
        assert results["Embeddings"].status is Status.OK
        assert "doctor-embed, 3 dimensions" in results["Embeddings"].detail
        assert fake_embeddings.inputs == ["twosigma doctor"]
        assert "Embeddings (vector storage)" not in results  # the embedded PostgreSQL has `vector`

    def test_a_configured_provider_failing(self, install: Install, fake_embeddings: FakeEmbeddings) -> None:
        self._embeddings(install, fake_embeddings)
        fake_embeddings.fail = True
        results = check(install.settings)
        assert failures(results) == ["Embeddings"]
        assert "did not answer" in results["Embeddings"].detail
        assert "llm.embedding_base_url" in str(results["Embeddings"].fix)

    def test_a_provider_without_a_model(self, install: Install, fake_embeddings: FakeEmbeddings) -> None:
        asyncio.run(_put(install.settings, {"llm.embedding_provider": "openai"}))
        results = check(install.settings, offline=True)
        assert failures(results) == ["Embeddings"]
        assert "llm.embedding_model" in str(results["Embeddings"].fix)

    def test_no_vector_extension_is_a_warning(self, install: Install, fake_embeddings: FakeEmbeddings) -> None:
        self._embeddings(install, fake_embeddings)
        asyncio.run(_sql(install.settings, "DROP TABLE IF EXISTS retrieval_embeddings"))
        results = check(install.settings)
        assert failures(results) == []
        assert results["Embeddings (vector storage)"].status is Status.WARN
        assert "retrieval stays full-text only" in results["Embeddings (vector storage)"].detail

    def test_published_items_not_indexed_are_a_warning_with_the_rebuild(self, install: Install) -> None:
        asyncio.run(_unindexed_item(install.settings))
        results = check(install.settings, offline=True)
        assert failures(results) == []
        assert results["Course index"].status is Status.WARN
        assert "1 published item(s) not indexed yet" in results["Course index"].detail
        assert "twosigma index rebuild" in str(results["Course index"].fix)
