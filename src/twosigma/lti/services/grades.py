"""Assignment and Grade Services 2.0 (docs/lti.md, "Grades"): line items bound at launch, a score queued for every
graded attempt, and the queue's worker posting them to the platform.

- A resource link launch whose AGS claim names a `lineitem` binds that line item to the launched item for that
  LMS course (`bind_from_launch`).
- Grading an attempt (assessments/) calls `record_attempt` in its own transaction: one `lti_score_sends` row per
  line item of the item in an LMS course linked to the offering, for a student the platform knows. The row is
  unique per (line item, attempt), so an attempt's score is queued once, whatever calls it.
- The `lti-scores` queue (jobs/) posts each row: a bearer token from the platform's token endpoint (OAuth2 client
  credentials with the tool's signed JWT as client assertion, RFC 7523; cached per platform until a minute before
  it expires), then `POST {lineitem}/scores`. A platform that is down or answers 5xx gets the score again after the
  queue's backoff; a 4xx other than 401 is final (FAILED, with the platform's answer); a 401 drops the cached token
  and retries. A worker that vanished mid-post leaves its row FAILED ("outcome unknown"), never posted twice.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.config import Settings
from twosigma.db.engine import Database
from twosigma.jobs import queue
from twosigma.jobs.runner import Queue
from twosigma.lti import repository
from twosigma.lti.models import LtiContext
from twosigma.lti.schemas import GradeSyncRead, ScoreSendRead
from twosigma.lti.services import access_tokens, outbound
from twosigma.lti.services.access_tokens import ServiceCallFailed

logger = logging.getLogger("twosigma.lti")

QUEUE_NAME = "lti-scores"
BATCH_SIZE = 20
HTTP_TIMEOUT_SECONDS = 15.0
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCORE_MEDIA_TYPE = "application/vnd.ims.lis.v1.score+json"
SCORE_MAXIMUM = 100


# --- Binding and queueing --------------------------------------------------------------------------------------


async def bind_from_launch(
    session: AsyncSession, context: LtiContext, item_id: int | None, lineitem: str | None
) -> None:
    """A launch into an item binds its line item to the item; a launch without one, to the course."""
    if lineitem is None:
        return
    if item_id is None:
        await repository.bind_course_line_item(session, context.id, lineitem)
    else:
        await repository.bind_line_item(session, context.id, item_id, lineitem)


async def record_attempt(
    session: AsyncSession,
    *,
    attempt_id: int,
    user_id: int,
    offering_id: int,
    item_id: int,
    score_percent: float,
    submitted_at: datetime,
) -> int:
    """Queue the attempt's score for every line item it belongs to; how many were queued."""
    targets = await repository.score_targets(session, user_id, offering_id, item_id)
    for target in targets:
        payload = {
            "userId": target.subject,
            "scoreGiven": round(float(score_percent), 4),
            "scoreMaximum": SCORE_MAXIMUM,
            "activityProgress": "Completed",
            "gradingProgress": "FullyGraded",
            "timestamp": submitted_at.isoformat(),
        }
        await repository.add_score(
            session,
            {
                "line_item_id": target.line_item_id,
                "quiz_attempt_id": attempt_id,
                "user_id": user_id,
                "payload": payload,
            },
        )
    return len(targets)


async def record_completion(
    session: AsyncSession, *, enrollment_id: int, user_id: int, offering_id: int, completed_at: datetime
) -> int:
    """Queue the course's completion (progress 100) for the course line item of every linked LMS course."""
    targets = await repository.score_targets(session, user_id, offering_id, None)
    for target in targets:
        payload = {
            "userId": target.subject,
            "scoreGiven": SCORE_MAXIMUM,
            "scoreMaximum": SCORE_MAXIMUM,
            "activityProgress": "Completed",
            "gradingProgress": "FullyGraded",
            "timestamp": completed_at.isoformat(),
            "comment": "Course completed",
        }
        await repository.add_score(
            session,
            {
                "line_item_id": target.line_item_id,
                "course_enrollment_id": enrollment_id,
                "user_id": user_id,
                "payload": payload,
            },
        )
    return len(targets)


async def grade_sync(session: AsyncSession, offering_id: int, limit: int = 100) -> GradeSyncRead:
    counts = await repository.score_counts_of(session, offering_id)
    rows = await repository.score_sends_of(session, offering_id, limit)
    return GradeSyncRead(
        pending=counts.get("PENDING", 0) + counts.get("SENDING", 0),
        sent=counts.get("SENT", 0),
        failed=counts.get("FAILED", 0),
        recent=[ScoreSendRead.model_validate(row, from_attributes=True) for row in rows],
    )


def scores_url(lineitem_url: str) -> str:
    """`{lineitem}/scores`, the line item's query string kept (AGS 2.0 §3.4)."""
    parts = urlsplit(lineitem_url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/") + "/scores", parts.query, parts.fragment))


# --- The queue -----------------------------------------------------------------------------------------------------


async def _post(
    session: AsyncSession, settings: Settings, client: httpx.AsyncClient, row: Any, payload: Mapping[str, Any]
) -> None:
    reason = await outbound.refusal(settings, scores_url(row.lineitem_url))
    if reason is not None:
        raise ServiceCallFailed(f"line item refused: {reason}", permanent=True)
    for retry_with_new_token in (True, False):
        token = await access_tokens.token_cache().token(session, settings, client, row, SCORE_SCOPE)
        try:
            response = await client.post(
                scores_url(row.lineitem_url),
                json=dict(payload),
                headers={"Authorization": f"Bearer {token}", "Content-Type": SCORE_MEDIA_TYPE},
            )
        except httpx.HTTPError as exc:
            raise ServiceCallFailed(f"line item unreachable ({type(exc).__name__})", permanent=False) from exc
        if 200 <= response.status_code < 300:
            return
        if response.status_code == 401 and retry_with_new_token:
            access_tokens.token_cache().drop(int(row.platform_id), SCORE_SCOPE)
            continue
        raise ServiceCallFailed(
            f"line item answered HTTP {response.status_code}: {response.text[:200]}",
            permanent=400 <= response.status_code < 500 and response.status_code not in (408, 429),
        )


async def send_batch(database: Database, settings: Settings, now: datetime) -> int:
    """Claim and post one batch of due scores; how many were handled."""
    async with database.sessionmaker() as session, session.begin():
        await queue.sweep_expired(session, repository.SCORES, now)
        claimed = await queue.claim(session, repository.SCORES, now, BATCH_SIZE)
        rows = await repository.scores_to_send(session, [row.id for row in claimed])
    attempts = {row.id: row.attempts for row in claimed}
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_SECONDS, follow_redirects=False) as client:
        for row in rows:
            attempt = attempts[row.id]
            try:
                async with database.sessionmaker() as session, session.begin():
                    await _post(session, settings, client, row, row.payload)
            except ServiceCallFailed as exc:
                async with database.sessionmaker() as session, session.begin():
                    status = await queue.retry(
                        session, repository.SCORES, row.id, attempt, str(exc), now, permanent=exc.permanent
                    )
                logger.warning("lti score %s not posted (attempt %s, now %s): %s", row.id, attempt, status, exc)
                continue
            async with database.sessionmaker() as session, session.begin():
                await queue.complete(session, repository.SCORES, row.id, attempt, sent_at=now)
    return len(rows)


def score_queue(settings: Settings) -> Queue:
    async def batch(database: Database, now: datetime) -> int:
        return await send_batch(database, settings, now)

    return Queue(QUEUE_NAME, batch)
