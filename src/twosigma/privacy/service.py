"""Take it or erase it (GDPR articles 15, 17 and 20; FERPA): data exports built by a background job, erasure of an
account across every domain, and the daily chat retention (docs/identity.md).

Exports are a job table (jobs/queue.py): `POST /users/me/export` writes a PENDING row; the runner's `exports`
queue claims it (`FOR UPDATE SKIP LOCKED`), reads the person's rows in one read-only transaction, builds one ZIP in
memory and stores it in the row (bytea, at most MAX_ARCHIVE_BYTES) with a mail to the owner. Building has no outside
effect, so a vanished worker's export is built again (`reclaim_expired`). Expired exports (7 days after the
request) are deleted by the same queue.

Erasure calls each owning domain's `erase_user` (the layer rule: only a domain writes its tables) in the request's
transaction: all of it happens, or none.
"""

from __future__ import annotations

import io
import json
import logging
import zipfile
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any, cast

from anyio import to_thread
from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.api_keys import service as api_keys
from twosigma.assessments import service as assessments
from twosigma.audit import service as audit
from twosigma.audit.models import AuditAction
from twosigma.auth import service as auth
from twosigma.auth.account import EMAIL_CHANGED_KEY
from twosigma.auth.passwords import bcrypt_cost, verify_password
from twosigma.auth.service import InvalidCurrentPassword
from twosigma.authz.principal import Principal
from twosigma.config import Settings
from twosigma.db.engine import Database
from twosigma.feature_requests import service as feature_requests
from twosigma.governance.services import flags as governance_flags
from twosigma.invitations.services import invitations
from twosigma.jobs import queue
from twosigma.jobs.runner import Queue
from twosigma.kit.errors import AppError, Conflict, Invalid
from twosigma.kit.ratelimit import RateLimiter
from twosigma.lti.services import launch as lti
from twosigma.mail import service as mail
from twosigma.privacy import repository as repo
from twosigma.privacy.models import DataExport
from twosigma.privacy.schemas import EraseMe, ExportRead, ExportStatus
from twosigma.sso.services import configuration as sso
from twosigma.tenancy.services import members as tenancy
from twosigma.tutor import service as tutor
from twosigma.users import service as users
from twosigma.users.models import User

logger = logging.getLogger(__name__)

EXPORT_QUEUE = "exports"
RETENTION_QUEUE = "chat_retention"
EXPORT_LIFETIME = timedelta(days=7)
# One person's data is small (a heavy tutor user: a few MB of JSON, deflated ~5x); a larger ZIP fails the export
# rather than a bytea row and a process's memory growing without bound.
MAX_ARCHIVE_BYTES = 100 * 1024 * 1024
DOWNLOAD_CHUNK_BYTES = 1024 * 1024
BATCH_SIZE = 5
EXPORT_READY_KEY = "export_ready:"


class ExportExpired(AppError):
    status_code = 410
    code = "export_expired"
    default_message = "This export has expired and its file was deleted; ask for a new one."


class ExportNotReady(Conflict):
    code = "export_not_ready"
    default_message = "This export is not ready (see its status)."


class ExportTooLarge(Exception):
    pass


class ErasureNotConfirmed(Invalid):
    code = "erasure_not_confirmed"
    default_message = "Type the account's email address in confirm_email to erase an account without a password."


# --- Exports: the owner's side ------------------------------------------------------------------------------------


def status_of(export: DataExport, now: datetime) -> ExportStatus:
    if export.expires_at <= now:
        return "EXPIRED"
    if export.status == "DONE":
        return "READY"
    if export.status in ("PENDING", "RUNNING", "FAILED"):
        return cast(ExportStatus, export.status)
    return "FAILED"


def export_read(export: DataExport, now: datetime) -> ExportRead:
    status = status_of(export, now)
    return ExportRead(
        id=export.id,
        status=status,
        created_at=export.created_at,
        completed_at=export.completed_at,
        expires_at=export.expires_at,
        size_bytes=export.size_bytes if status == "READY" else None,
        download_url=f"/api/v1/users/me/exports/{export.id}/download" if status == "READY" else None,
    )


async def request_export(session: AsyncSession, principal: Principal, now: datetime) -> ExportRead:
    """A new export, or the one still waiting or being built (asking twice builds once)."""
    export = await repo.open_export_of(session, principal.id, now)
    if export is None:
        export = await repo.add_export(session, principal.id, now, now + EXPORT_LIFETIME)
        await session.refresh(export)
    return export_read(export, now)


def ensure_downloadable(export: DataExport, now: datetime) -> int:
    """The ZIP's size when it may be downloaded now; 410 once expired, 409 while not built."""
    status = status_of(export, now)
    if status == "EXPIRED":
        raise ExportExpired()
    if status != "READY" or export.size_bytes is None:
        raise ExportNotReady(details={"status": status})
    return export.size_bytes


async def stream_archive(database: Database, export_id: int, size: int) -> AsyncIterator[bytes]:
    """The stored ZIP in chunks, each read in its own short session (the request's unit of work has ended)."""
    offset = 0
    while offset < size:
        async with database.sessionmaker() as session:
            chunk = await repo.archive_chunk(session, export_id, offset, DOWNLOAD_CHUNK_BYTES)
        if not chunk:
            return
        offset += len(chunk)
        yield chunk


# --- Exports: the worker -------------------------------------------------------------------------------------------

README = """\
This archive holds the personal data twosigma keeps about your account, as JSON files (UTF-8; times in UTC,
ISO 8601). It was made at your request (GDPR articles 15 and 20; FERPA).

account.json          Your account: id, email address, name, language, time zone, whether and when your email
                      address was verified, your activity streak, when the account was created. Your password is
                      not included (only a one-way hash of it is stored, and that is not information about you).
profile.json          Your onboarding profile (date of birth, learning goal, study level, grade) and the subjects
                      you said you are interested in.
roles.json            Your roles in universities (student, instructor, administrator, ...) and any suspension of
                      your membership by a university.
enrollments.json      The course offerings you are or were enrolled in, with their status.
progress.json         Your progress per module and per content item of each offering.
quiz_attempts.json    Every graded quiz attempt: your answers, the result per question, points and score.
chats.json            Your conversations with the AI tutor: each session with its messages (yours and the tutor's,
                      with any rating you gave in `meta`) and the notes you took on it. Share links are not
                      included (whether a chat is shared is: `share_enabled`).
feedback.json         The feature requests you sent about the platform, with their status.
sso_identities.json   The single sign-on identities linked to your account (the provider's issuer and your subject
                      identifier there, and the role or department it last reported).
README.txt            This file.

Empty lists mean there is nothing of that kind. To have your account and this data erased, use
DELETE /api/v1/users/me (or ask a platform administrator).
"""


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return None
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


async def collect(session: AsyncSession, user_id: int) -> dict[str, Any]:
    """Every file of the export as its JSON value."""
    messages = await repo.chat_messages(session, user_id)
    notes = await repo.chat_notes(session, user_id)
    chats = []
    for chat in await repo.chat_sessions(session, user_id):
        chat["messages"] = [m for m in messages if m["session_id"] == chat["id"]]
        chat["notes"] = [n for n in notes if n["session_id"] == chat["id"]]
        chats.append(chat)
    return {
        "account.json": await repo.account(session, user_id),
        "profile.json": {
            "profile": await repo.profile(session, user_id),
            "subject_preferences": await repo.subject_preferences(session, user_id),
        },
        "roles.json": {
            "roles": await repo.roles(session, user_id),
            "suspensions": await repo.suspensions(session, user_id),
        },
        "enrollments.json": await repo.enrollments(session, user_id),
        "progress.json": {
            "modules": await repo.module_progress(session, user_id),
            "content_items": await repo.content_progress(session, user_id),
        },
        "quiz_attempts.json": await repo.quiz_attempts(session, user_id),
        "chats.json": chats,
        "feedback.json": await repo.feature_requests(session, user_id),
        "sso_identities.json": await repo.sso_identities(session, user_id),
    }


def build_zip(files: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", README)
        for name, value in files.items():
            archive.writestr(name, json.dumps(value, default=_jsonable, ensure_ascii=False, indent=2))
            if buffer.tell() > MAX_ARCHIVE_BYTES:
                raise ExportTooLarge(f"the archive exceeds {MAX_ARCHIVE_BYTES} bytes")
    data = buffer.getvalue()
    if len(data) > MAX_ARCHIVE_BYTES:
        raise ExportTooLarge(f"the archive exceeds {MAX_ARCHIVE_BYTES} bytes")
    return data


async def export_batch(database: Database, now: datetime) -> int:
    """Delete expired exports, then claim and build one batch; how many were built or failed."""
    async with database.sessionmaker() as session, session.begin():
        purged = await repo.delete_expired(session, now)
        claimed = await queue.claim(session, repo.EXPORTS, now, BATCH_SIZE)
        owners = await repo.owners(session, [row.id for row in claimed])
    if purged:
        logger.info("data exports: %s expired export(s) deleted", purged)
    for row in claimed:
        await _build(database, row.id, row.attempts, owners[row.id], now)
    return len(claimed)


async def _build(database: Database, export_id: int, attempt: int, user_id: int, now: datetime) -> None:
    try:
        async with database.sessionmaker() as session, session.begin():
            files = await collect(session, user_id)
        # Serializing and compressing up to MAX_ARCHIVE_BYTES is CPU work: off the event loop, which serves requests.
        data = await to_thread.run_sync(build_zip, files)
    except ExportTooLarge as exc:
        async with database.sessionmaker() as session, session.begin():
            await queue.retry(session, repo.EXPORTS, export_id, attempt, str(exc), now, permanent=True)
        logger.error("data export %s failed: %s", export_id, exc)
        return
    except Exception as exc:
        async with database.sessionmaker() as session, session.begin():
            status = await queue.retry(
                session, repo.EXPORTS, export_id, attempt, f"{type(exc).__name__}: {exc}", now, permanent=False
            )
        logger.exception("data export %s not built (attempt %s, now %s)", export_id, attempt, status)
        return
    async with database.sessionmaker() as session, session.begin():
        done = await queue.complete(
            session, repo.EXPORTS, export_id, attempt, archive=data, size_bytes=len(data), completed_at=now
        )
        account = files["account.json"]
        if done and account is not None:
            await mail.enqueue(
                session,
                recipient=account["email"],
                template="export_ready",
                locale=account["locale"],
                link="",
                values={"name": account["full_name"], "target": str(export_id)},
                idempotency_key=f"{EXPORT_READY_KEY}{user_id}:{export_id}",
            )


def export_queue() -> Queue:
    return Queue(EXPORT_QUEUE, export_batch)


# --- Erasure -------------------------------------------------------------------------------------------------------


async def erase_me(
    session: AsyncSession,
    settings: Settings,
    limiter: RateLimiter,
    principal: Principal,
    body: EraseMe,
    now: datetime,
) -> None:
    """The signed-in user erases their own account, confirming with their password, or (an account without one,
    made by single sign-on) by typing its email address."""
    await limiter.hit(
        f"{settings.login_attempts_per_minute}/minute",
        "change-password:user",
        str(principal.id),
        message="Too many password attempts; try again shortly.",
    )
    user = await users.load_self(session, principal)
    if bcrypt_cost(user.password_hash) is not None:
        if body.password is None or not await verify_password(
            body.password, user.password_hash, settings.bcrypt_rounds
        ):
            raise InvalidCurrentPassword()
    elif body.confirm_email is None or body.confirm_email.strip().lower() != user.email.lower():
        raise ErasureNotConfirmed()
    await erase(session, user, now, actor=None)


async def erase_by_admin(session: AsyncSession, admin: Principal, user: User, now: datetime) -> None:
    if user.id == admin.id:
        raise Conflict("Erase your own account with DELETE /users/me.", code="cannot_erase_self")
    await erase(session, user, now, actor=admin)


async def erase(session: AsyncSession, user: User, now: datetime, *, actor: Principal | None) -> None:
    """Erase the account in the caller's transaction, each domain its own rows:

    deleted: chats (messages, notes, share links), its safety flags (escalated ones too), feature requests, role
    grants and suspensions, refresh and mailed tokens, single sign-on identities, invitations to its addresses, mail
    to them, its data exports, the profile and subject preferences; cleared: the account's personal fields (a
    tombstone remains: inactive, no password, `erased-{id}@erased.invalid`), quiz answers as typed, its address in
    the audit log; kept, attached to the tombstone only: enrolments, progress, quiz scores (the course's anonymous
    figures), API keys it created (detached). The audit log records `account.erased` without personal data."""
    await tenancy.ensure_not_last_platform_admin(session, user.id)
    addresses = sorted({user.email.lower(), *(a.lower() for a in await auth.erase_user(session, user.id))})
    await tutor.erase_user(session, user.id)
    await governance_flags.erase_user(session, user.id)
    await feature_requests.erase_user(session, user.id)
    await assessments.erase_user(session, user.id)
    await sso.erase_user(session, user.id)
    await lti.erase_user(session, user.id)
    await invitations.erase_user(session, user.id, addresses)
    await mail.forget_recipient(session, addresses, [f"{EMAIL_CHANGED_KEY}{user.id}:", f"{EXPORT_READY_KEY}{user.id}:"])
    await api_keys.erase_user(session, user.id)
    await tenancy.erase_user(session, user.id)
    await repo.delete_exports_of(session, user.id)
    await audit.forget_person(session, user.id, addresses)
    await users.erase_user(session, user, now)
    await audit.record(
        session,
        AuditAction.ACCOUNT_ERASED,
        actor=actor,
        university_id=None,
        target_user_id=user.id,
        details={"by": "platform_admin" if actor is not None else "self"},
    )
    logger.info("account %s erased (%s)", user.id, "by a platform admin" if actor is not None else "by its owner")


# --- Chat retention ------------------------------------------------------------------------------------------------


async def retention_batch(database: Database, now: datetime) -> int:
    """Once a day (the first drain of a UTC day claims it): delete every university's chats idle longer than its
    `chat_retention_days`. One transaction, so a failure leaves the day unclaimed and the next drain tries again.
    1 when it ran, 0 otherwise."""
    day = now.date()
    async with database.sessionmaker() as session, session.begin():
        if not await repo.claim_retention_day(session, day, now):
            return 0
        policies = await sso.chat_retention(session)
        sessions = messages = 0
        per_university = []
        for university_id, days in policies:
            deleted, their_messages = await tutor.delete_idle_chats(session, university_id, now - timedelta(days=days))
            sessions += deleted
            messages += their_messages
            per_university.append(f"{university_id}:{deleted}")
        await repo.record_retention(session, day, len(policies), sessions, messages)
    logger.info(
        "chat retention %s: %s universities with a retention, %s chat sessions (%s messages) deleted [%s]",
        day.isoformat(),
        len(policies),
        sessions,
        messages,
        " ".join(per_university),
    )
    return 1


def retention_queue() -> Queue:
    return Queue(RETENTION_QUEUE, retention_batch)
