"""`twosigma doctor`: every check an operator would otherwise find one failure at a time, each with its fix.

A check answers OK, FAIL (something configured is broken, or something required is missing: the exit code is 1),
WARN (works, but not as a production install should; exit 0) or SKIP (not configured and optional, or needing a
check that failed first). Every check talks to the real thing: the database, the LLM provider (one token), the SMTP
server (connect and EHLO, no mail), each OIDC provider's discovery and JWKS, Redis.

Adding a check (embeddings, …): write an `async def check_x(context) -> list[CheckResult]` and add it
to CHECKS; docs/operations.md lists them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

import twosigma.models  # noqa: F401 - every mapped class, so the relationships between them resolve
from twosigma.config import PLACEHOLDER_SECRETS, Environment, Settings
from twosigma.db import migrate
from twosigma.db.bootstrap import committed_session, engine_on, resolve_database
from twosigma.system_settings.effective import EffectiveSettings

MIN_SECRET_LENGTH = 32
MIN_DISTINCT_SECRET_CHARACTERS = 12
CLOCK_SKEW_FAIL_SECONDS = 5.0
QUEUE_STALE_SECONDS = 300.0
NETWORK_TIMEOUT_SECONDS = 10.0


class Status(StrEnum):
    OK = "ok"
    FAIL = "fail"
    WARN = "warn"
    SKIP = "skip"


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: Status
    detail: str
    fix: str | None = None


@dataclass
class Context:
    settings: Settings
    offline: bool
    engine: AsyncEngine | None = None
    effective: EffectiveSettings | None = None
    facts: dict[str, object] = field(default_factory=dict)


def ok(name: str, detail: str) -> CheckResult:
    return CheckResult(name, Status.OK, detail)


def failed(name: str, detail: str, fix: str) -> CheckResult:
    return CheckResult(name, Status.FAIL, detail, fix)


def _reason(exc: BaseException) -> str:
    cause = getattr(exc, "orig", None) or exc
    message = getattr(cause, "message", None) or str(cause)
    lines = str(message).strip().splitlines()
    return f"{type(cause).__name__}: {lines[0]}" if lines else type(cause).__name__


# --- configuration ---------------------------------------------------------------------------------------------


async def check_jwt_secret(context: Context) -> list[CheckResult]:
    name = "JWT secret"
    secret = context.settings.secret_key.get_secret_value() if context.settings.secret_key else ""
    fix = 'set TWOSIGMA_SECRET_KEY to python -c "import secrets; print(secrets.token_urlsafe(48))"'
    if secret.strip().lower() in PLACEHOLDER_SECRETS:
        return [failed(name, "TWOSIGMA_SECRET_KEY is missing or a placeholder", fix)]
    if len(secret) < MIN_SECRET_LENGTH:
        return [failed(name, f"{len(secret)} characters; at least {MIN_SECRET_LENGTH} are needed", fix)]
    if len(set(secret)) < MIN_DISTINCT_SECRET_CHARACTERS:
        return [failed(name, f"only {len(set(secret))} distinct characters: not a random secret", fix)]
    where = "TWOSIGMA_SECRET_KEY" if context.facts.get("secret_configured") else "kept in the data directory"
    return [ok(name, f"{len(secret)} characters, {len(set(secret))} distinct ({where})")]


async def check_encryption_keys(context: Context) -> list[CheckResult]:
    from twosigma.system_settings.crypto import EncryptionKeyInvalid, EncryptionNotConfigured, secret_box

    name = "Encryption keys"
    fix = (
        'set TWOSIGMA_ENCRYPTION_KEYS to python -c "from cryptography.fernet import Fernet; '
        'print(Fernet.generate_key().decode())"'
    )
    try:
        secret_box(context.settings)
    except (EncryptionNotConfigured, EncryptionKeyInvalid) as exc:
        return [failed(name, exc.message, fix)]
    return [ok(name, f"{len(context.settings.encryption_keys)} Fernet key(s), the first encrypts")]


# --- the database ----------------------------------------------------------------------------------------------


async def check_database(context: Context) -> list[CheckResult]:
    name = "Database"
    assert context.engine is not None
    try:
        async with context.engine.connect() as conn:
            version = (await conn.execute(text("SHOW server_version"))).scalar_one()
        current = await migrate.current_revisions(context.engine)
    except Exception as exc:
        context.engine = None  # every check after this one needs it
        return [failed(name, f"unreachable: {_reason(exc)}", "check TWOSIGMA_DATABASE_URL and that the server runs")]
    heads = migrate.head_revisions()
    if current != heads:
        shown = ", ".join(sorted(current)) or "none"
        return [
            failed(
                name,
                f"PostgreSQL {version}, at revision {shown}, code's head is {', '.join(sorted(heads))}",
                "run `twosigma db upgrade` (back up first: `twosigma db backup FILE`)",
            )
        ]
    return [ok(name, f"PostgreSQL {version}, at head ({', '.join(sorted(heads))})")]


async def check_clock(context: Context) -> list[CheckResult]:
    name = "Clock"
    assert context.engine is not None
    async with context.engine.connect() as conn:
        before = time.time()
        database_now = (await conn.execute(text("SELECT now()"))).scalar_one()
        after = time.time()
    skew = database_now.timestamp() - (before + after) / 2
    detail = f"{abs(skew):.1f} s {'ahead of' if skew > 0 else 'behind'} the database"
    if abs(skew) > CLOCK_SKEW_FAIL_SECONDS:
        return [
            failed(
                name,
                detail,
                "synchronise both clocks (NTP: `timedatectl set-ntp true`); tokens expire by this clock",
            )
        ]
    return [ok(name, f"within {CLOCK_SKEW_FAIL_SECONDS:g} s of the database ({abs(skew):.1f} s)")]


async def _load_effective(context: Context, session: AsyncSession) -> EffectiveSettings:
    from twosigma.system_settings.effective import get_effective_settings

    if context.effective is None:
        context.effective = await get_effective_settings(session, context.settings)
    return context.effective


async def check_stored_secrets(context: Context) -> list[CheckResult]:
    """Every encrypted value in the database opens with the configured keys: the secret settings, each
    university's secret settings, the LTI tool's private keys and each university's single sign-on client secret
    (ops/stored_secrets.py, the same set `twosigma settings rotate-key` re-encrypts)."""
    from twosigma.ops.stored_secrets import every_encrypted_value
    from twosigma.system_settings.crypto import (
        EncryptionKeyInvalid,
        EncryptionNotConfigured,
        UndecryptableSecret,
        secret_box,
    )

    name = "Stored secrets"
    assert context.engine is not None
    async with committed_session(context.engine) as session:
        tokens = await every_encrypted_value(session)
    if not tokens:
        return [ok(name, "no encrypted values stored yet")]
    try:
        box = secret_box(context.settings)
    except (EncryptionNotConfigured, EncryptionKeyInvalid):
        return [failed(name, f"{len(tokens)} encrypted value(s) and no usable key", "see Encryption keys above")]
    closed = []
    for label, token in tokens:
        try:
            box.decrypt(token)
        except UndecryptableSecret:
            closed.append(label)
    if closed:
        return [
            failed(
                name,
                f"{len(closed)} of {len(tokens)} cannot be decrypted: {', '.join(closed)}",
                "add the key they were encrypted with to TWOSIGMA_ENCRYPTION_KEYS (then `twosigma settings "
                "rotate-key`), or set each again",
            )
        ]
    return [ok(name, f"all {len(tokens)} encrypted value(s) decrypt")]


async def check_llm(context: Context) -> list[CheckResult]:
    from twosigma.llm.errors import LLMFailure
    from twosigma.llm.factory import ProviderRegistry
    from twosigma.llm.types import Completed, LLMMessage, LLMRequest

    name = "LLM provider"
    assert context.engine is not None
    async with committed_session(context.engine) as session:
        effective = await _load_effective(context, session)
    if not effective.llm_provider:
        return [
            failed(
                name,
                "llm.provider is not set: the tutor answers 503 llm_not_configured",
                "twosigma settings set llm.provider anthropic|openai|bedrock, and its key (docs/settings-and-llm.md)",
            )
        ]
    registry = ProviderRegistry()
    try:
        try:
            provider = registry.provider(effective)
        except LLMFailure as exc:
            return [failed(name, f"{effective.llm_provider}: {exc.message}", "set the provider's key or region")]
        if context.offline:
            return [CheckResult(name, Status.SKIP, f"{provider.name} configured; not called (--offline)")]
        request = LLMRequest(messages=[LLMMessage("user", "Reply with one word.")], max_tokens=1)
        started = time.perf_counter()
        try:
            async with asyncio.timeout(NETWORK_TIMEOUT_SECONDS * 3):
                completed = [event async for event in provider.stream(request) if isinstance(event, Completed)]
        except (LLMFailure, TimeoutError, OSError) as exc:
            detail = exc.message if isinstance(exc, LLMFailure) else _reason(exc)
            return [failed(name, f"{provider.name} did not answer: {detail}", "check the key, base URL and model")]
        model = completed[-1].model if completed else "?"
        elapsed = (time.perf_counter() - started) * 1000
        return [ok(name, f"{provider.name} answered a one-token call ({model}, {elapsed:.0f} ms)")]
    finally:
        await registry.aclose()


async def check_smtp(context: Context) -> list[CheckResult]:
    import aiosmtplib

    from twosigma.mail.service import smtp_config

    name = "SMTP"
    assert context.engine is not None
    async with committed_session(context.engine) as session:
        config = smtp_config(await _load_effective(context, session))
    if config is None:
        status = Status.WARN if context.settings.environment is Environment.PRODUCTION else Status.SKIP
        return [
            CheckResult(
                name,
                status,
                "mail.smtp_host is not set: no mail is sent (password resets, invitations)",
                "twosigma settings set mail.smtp_host HOST (and port, user, password)",
            )
        ]
    where = f"{config.host}:{config.port}"
    if context.offline:
        return [CheckResult(name, Status.SKIP, f"{where} configured; not contacted (--offline)")]
    client = aiosmtplib.SMTP(
        hostname=config.host, port=config.port, start_tls=config.starttls, timeout=NETWORK_TIMEOUT_SECONDS
    )
    try:
        await client.connect()
        await client.ehlo()
        if config.username:
            await client.login(config.username, config.password or "")
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        return [failed(name, f"{where}: {_reason(exc)}", "check mail.smtp_host, mail.smtp_port, STARTTLS and login")]
    finally:
        if client.is_connected:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError, TimeoutError):
                client.close()
    login = ", logged in" if config.username else ""
    return [ok(name, f"{where} answered EHLO{', STARTTLS' if config.starttls else ''}{login} (no mail sent)")]


async def check_oidc(context: Context) -> list[CheckResult]:
    from twosigma.kit.errors import AppError
    from twosigma.sso import oidc
    from twosigma.sso.models import SsoProvider
    from twosigma.tenancy.models import University

    name = "Single sign-on"
    assert context.engine is not None
    async with committed_session(context.engine) as session:
        rows = (
            await session.execute(
                select(University.short_code, SsoProvider.issuer)
                .join(University, University.id == SsoProvider.university_id)
                .where(SsoProvider.enabled)
                .order_by(University.short_code)
            )
        ).all()
    if not rows:
        return [CheckResult(name, Status.SKIP, "no university has an OpenID Connect provider")]
    if context.offline:
        return [CheckResult(name, Status.SKIP, f"{len(rows)} provider(s); not contacted (--offline)")]
    results = []
    for short_code, issuer in rows:
        label = f"{name} ({short_code})"
        try:
            await oidc.discover(issuer)
        except AppError as exc:
            results.append(failed(label, f"{issuer}: {exc.message}", "check the issuer URL, or the provider is down"))
            continue
        results.append(ok(label, f"{issuer}: discovery and JWKS answer"))
    return results


async def check_lti(context: Context) -> list[CheckResult]:
    """The tool's signing key opens (deep linking and grade passback sign with it), and each enabled platform's
    JWKS answers with a usable key (every launch is verified against it)."""
    from twosigma.kit.errors import AppError
    from twosigma.lti import repository as lti_repository
    from twosigma.lti.services.keys import signing_key_opens
    from twosigma.lti.services.verification import fetch_key_set
    from twosigma.system_settings.crypto import UndecryptableSecret

    name = "LTI platforms"
    assert context.engine is not None
    async with committed_session(context.engine) as session:
        platforms = await lti_repository.enabled_platforms(session)
        if not platforms:
            return [CheckResult(name, Status.SKIP, "no university has registered an LTI platform")]
        try:
            kid = await signing_key_opens(session, context.settings)
        except (UndecryptableSecret, AppError, ValueError) as exc:
            key_result = failed(
                "LTI tool key",
                f"the tool's signing key cannot be opened ({_reason(exc)}): deep linking and grade passback fail",
                "add the key it was encrypted with to TWOSIGMA_ENCRYPTION_KEYS, or run `twosigma lti rotate-key` "
                "(then give the platforms the tool's new JWKS if they copied it)",
            )
        else:
            detail = f"signs with {kid}" if kid else "none yet: created at the first launch"
            key_result = ok("LTI tool key", detail)
    results = [key_result]
    if context.offline:
        results.append(CheckResult(name, Status.SKIP, f"{len(platforms)} platform(s); not contacted (--offline)"))
        return results
    for short_code, issuer, client_id, jwks_url in platforms:
        label = f"{name} ({short_code}, {client_id})"
        try:
            keys = await fetch_key_set(jwks_url)
        except AppError as exc:
            reason = getattr(exc, "reason", None) or exc.message
            results.append(
                failed(label, f"{issuer}: JWKS {jwks_url}: {reason}", "check the platform's JWKS URL, or it is down")
            )
            continue
        results.append(ok(label, f"{issuer}: JWKS answers ({len(keys.keys)} key(s))"))
    return results


async def check_embeddings(context: Context) -> list[CheckResult]:
    """The tutor's retrieval (docs/tutor.md): the embedding provider answers a one-text call, the server can store
    vectors, and every published item is in the course index."""
    from twosigma.retrieval import repository as index
    from twosigma.retrieval.services.providers import EmbeddingFailed, embed, embedding_config

    name = "Embeddings"
    assert context.engine is not None
    async with committed_session(context.engine) as session:
        effective = await _load_effective(context, session)
        vectors = await index.vector_storage(session)
        unindexed = await index.unindexed_item_count(session)
    results: list[CheckResult] = []
    provider = effective.llm_embedding_provider
    config = embedding_config(effective)
    fix = "check llm.embedding_base_url (or llm.openai_base_url), llm.embedding_api_key and llm.embedding_model"
    if not provider:
        detail = "llm.embedding_provider is not set: retrieval is full-text only"
        if not vectors:
            detail += " (this PostgreSQL has no `vector` extension either)"
        results.append(CheckResult(name, Status.SKIP, detail))
    elif config is None:
        missing = "llm.embedding_model" if not effective.llm_embedding_model else "llm.bedrock_region"
        results.append(failed(name, f"{provider}: {missing} is not set", f"twosigma settings set {missing} …"))
    elif context.offline:
        detail = f"{provider} ({config.model}) configured; not called (--offline)"
        results.append(CheckResult(name, Status.SKIP, detail))
    else:
        started = time.perf_counter()
        try:
            vector = (await embed(config, ["twosigma doctor"], NETWORK_TIMEOUT_SECONDS))[0]
        except EmbeddingFailed as exc:
            results.append(failed(name, f"{provider} ({config.model}) did not answer: {exc}", fix))
        else:
            elapsed = (time.perf_counter() - started) * 1000
            detail = f"{provider} embedded one text ({config.model}, {len(vector)} dimensions, {elapsed:.0f} ms)"
            results.append(ok(name, detail))
    if provider and not vectors:
        results.append(
            CheckResult(
                f"{name} (vector storage)",
                Status.WARN,
                "this PostgreSQL has no `vector` extension (no retrieval_embeddings table): retrieval stays "
                "full-text only, and no vector is stored",
                'install pgvector on the server (docs/operations.md "Retrieval")',
            )
        )
    if unindexed:
        results.append(
            CheckResult(
                "Course index",
                Status.WARN,
                f"{unindexed} published item(s) not indexed yet: the tutor cannot cite them; a running server's "
                "retrieval-backfill queue indexes them in the background",
                "start `twosigma serve`, or run `twosigma index rebuild` to index them now",
            )
        )
    else:
        results.append(ok("Course index", "every published item is indexed"))
    return results


async def check_workers(context: Context) -> list[CheckResult]:
    from twosigma.jobs.models import JobQueueRun
    from twosigma.mail.service import QUEUE_NAME
    from twosigma.privacy.service import EXPORT_QUEUE, RETENTION_QUEUE

    assert context.engine is not None
    async with committed_session(context.engine) as session:
        drained = dict((await session.execute(select(JobQueueRun.queue, JobQueueRun.last_drained_at))).all())
        now = (await session.execute(text("SELECT now()"))).scalar_one()
    results = []
    for queue in sorted({QUEUE_NAME, EXPORT_QUEUE, RETENTION_QUEUE} | set(drained)):
        label = f"Worker ({queue})"
        at = drained.get(queue)
        fix = "start `twosigma serve` (every server process drains the queues); check its log for errors"
        if at is None:
            results.append(failed(label, "never drained: no server process has run its workers", fix))
            continue
        age = (now - at).total_seconds()
        if age > QUEUE_STALE_SECONDS:
            results.append(failed(label, f"last drained {age / 60:.0f} min ago ({at:%Y-%m-%d %H:%M} UTC)", fix))
        else:
            results.append(ok(label, f"drained {age:.0f} s ago"))
    return results


async def check_redis(context: Context) -> list[CheckResult]:
    name = "Redis"
    url = context.settings.redis_url
    if not url:
        return [CheckResult(name, Status.SKIP, "not configured: rate limits are per process")]
    import redis.asyncio as redis
    from redis.exceptions import RedisError

    client = redis.from_url(url, socket_timeout=NETWORK_TIMEOUT_SECONDS, socket_connect_timeout=NETWORK_TIMEOUT_SECONDS)
    try:
        pong = client.ping()
        if not isinstance(pong, bool):  # the asyncio client's is a coroutine (the type covers both clients)
            await pong
    except (RedisError, OSError) as exc:
        return [failed(name, f"{_safe(url)}: {_reason(exc)}", "check TWOSIGMA_REDIS_URL and that Redis runs")]
    finally:
        await client.aclose()
    return [ok(name, f"{_safe(url)} answered PING")]


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split("@")[-1]


Check = Callable[[Context], Awaitable[list[CheckResult]]]
# (name, check): first the ones without the database, then the ones that need it (skipped when it is down).
CONFIG_CHECKS: list[tuple[str, Check]] = [("JWT secret", check_jwt_secret), ("Encryption keys", check_encryption_keys)]
DATABASE_CHECKS: list[tuple[str, Check]] = [
    ("Database", check_database),
    ("Clock", check_clock),
    ("Stored secrets", check_stored_secrets),
    ("LLM provider", check_llm),
    ("Embeddings", check_embeddings),
    ("SMTP", check_smtp),
    ("Single sign-on", check_oidc),
    ("LTI platforms", check_lti),
    ("Workers", check_workers),
]
OTHER_CHECKS: list[tuple[str, Check]] = [("Redis", check_redis)]


async def _run(name: str, check: Check, context: Context) -> list[CheckResult]:
    try:
        return await check(context)
    except Exception as exc:  # a check that breaks is a failed check, never a traceback
        return [failed(name, f"the check itself failed: {_reason(exc)}", "run with TWOSIGMA_DEBUG=1 and report it")]


async def run_doctor(
    settings: Settings, *, offline: bool = False, on_result: Callable[[CheckResult], None] | None = None
) -> list[CheckResult]:
    """Run every check in order; `on_result` sees each result as it comes."""
    import os

    context = Context(settings=settings, offline=offline)
    context.facts["secret_configured"] = bool(os.environ.get("TWOSIGMA_SECRET_KEY"))
    results: list[CheckResult] = []

    def report(batch: list[CheckResult]) -> None:
        for result in batch:
            results.append(result)
            if on_result is not None:
                on_result(result)

    for name, check in CONFIG_CHECKS:
        report(await _run(name, check, context))
    try:
        target = await resolve_database(settings)
    except Exception as exc:
        report([failed("Database", f"cannot start or reach it: {_reason(exc)}", "run `twosigma db status`")])
        target = None
    if target is not None:
        try:
            async with engine_on(settings, target.url) as engine:
                context.engine = engine
                for name, check in DATABASE_CHECKS:
                    if context.engine is None:
                        report([CheckResult(name, Status.SKIP, "needs the database")])
                        continue
                    report(await _run(name, check, context))
        finally:
            target.release()
    if target is None:
        report([CheckResult(name, Status.SKIP, "needs the database") for name, _ in DATABASE_CHECKS[1:]])
    for name, check in OTHER_CHECKS:
        report(await _run(name, check, context))
    return results


def passed(results: list[CheckResult]) -> bool:
    return all(result.status is not Status.FAIL for result in results)


def as_json(results: list[CheckResult]) -> dict[str, object]:
    return {
        "ok": passed(results),
        "checked_at": datetime.now(UTC).isoformat(),
        "checks": [asdict(result) for result in results],
    }
