"""Phase 5: enrolments in every status, content and module progress consistent with the roll-up rule, tutor chats
with realistic meta and some feedback; then feature requests and the users' activity dates and streaks."""

from __future__ import annotations

import json
from bisect import bisect_right
from datetime import datetime, timedelta
from typing import Any

from twosigma.demo.content import TYPE_NAMES, snapshot
from twosigma.demo.copy import Table
from twosigma.demo.vocab import ASSISTANT_REPLIES, FEATURE_REQUESTS, FEEDBACK_COMMENTS, NOTES, USER_QUESTIONS
from twosigma.demo.world import CourseInfo, Offering, World
from twosigma.enums import EnrollmentStatus, FeatureRequestStatus, MessageRole

MODELS = [("anthropic", "claude-sonnet-5-5", 50), ("openai", "gpt-4o-mini", 30), ("openai", "llama3.1", 20)]
PROMPT_REF = {"name": "General Protocol", "version": 1, "label": "production"}
ATTEMPTED = {TYPE_NAMES.index(name) for name in ("quiz", "exercise", "lab")}
HOUR = timedelta(hours=1)


class ActivityWriter:
    def __init__(self, w: World) -> None:
        self.w = w
        c = w.copier
        self.enrolments = c.table(
            "course_enrollments", ["id", "user_id", "course_offering_id", "status", "enrolled_at", "completed_at"]
        )
        self.items = c.table(
            "user_content_progress",
            [
                "id",
                "user_id",
                "course_offering_id",
                "content_item_id",
                "progress_percent",
                "attempts_count",
                "first_started_at",
                "last_interacted_at",
                "completed_at",
            ],
        )
        self.modules = c.table(
            "user_module_progress",
            ["id", "user_id", "course_offering_id", "module_id", "progress_percent", "started_at", "completed_at"],
        )
        self.sessions = c.table(
            "chat_sessions",
            [
                "id",
                "user_id",
                "content_item_id",
                "content_context",
                "share_enabled",
                "share_token",
                "created_at",
                "updated_at",
            ],
        )
        self.messages = c.table(
            "chat_messages", ["id", "session_id", "parent_message_id", "role", "content", "meta", "created_at"]
        )
        self.notes = c.table("chat_notes", ["id", "session_id", "message_id", "content", "selected_text", "created_at"])

    # --- one enrolment -------------------------------------------------------------------------------------------

    def enrol(self, user_id: int, course: CourseInfo, force_active: bool = False) -> None:
        w, rng, spec = self.w, self.w.rng, self.w.spec
        past = course.past is not None and not force_active and rng.random() < 0.35
        offering = course.past if past else course.current
        assert offering is not None
        r = rng.random()
        if force_active:
            status = EnrollmentStatus.ACTIVE
        elif past:
            status = (
                EnrollmentStatus.COMPLETED
                if r < spec.completed_share
                else EnrollmentStatus.DROPPED
                if r < spec.completed_share + 0.25
                else EnrollmentStatus.ACTIVE
            )
        else:
            status = (
                EnrollmentStatus.PENDING
                if r < 0.05
                else EnrollmentStatus.DROPPED
                if r < 0.1
                else EnrollmentStatus.COMPLETED
                if r < 0.1 + spec.completed_share / 4
                else EnrollmentStatus.ACTIVE
            )
        if status is not EnrollmentStatus.DROPPED and offering.capacity is not None:
            if offering.seats_taken >= offering.capacity:
                status = EnrollmentStatus.WAITLISTED
            else:
                offering.seats_taken += 1
        window = max(HOUR, min(w.now, offering.enrollment_start + timedelta(weeks=8)) - offering.enrollment_start)
        enrolled_at = offering.enrollment_start + window * rng.random()

        n = course.published_items
        mean = spec.progress_mean_items or max(1, n // 3)
        if status is EnrollmentStatus.COMPLETED:
            done = n
        elif status is EnrollmentStatus.ACTIVE:
            done = min(n, int(rng.expovariate(1 / mean)) + (3 if force_active else 0))
        elif status is EnrollmentStatus.DROPPED:
            done = min(n, int(rng.expovariate(2 / mean)))
        else:
            done = 0
        if status is EnrollmentStatus.ACTIVE and force_active:
            done = max(3, min(done, n - 1))
        end = min(w.now, offering.ends_at) - timedelta(days=rng.expovariate(1 / 6))
        end = max(end, enrolled_at + HOUR)
        completed_at = end if status is EnrollmentStatus.COMPLETED else None
        self.enrolments.add(
            w.copier.new_id("course_enrollments"), user_id, offering.id, status.value, enrolled_at, completed_at
        )
        if done:
            partial = 100 if status is EnrollmentStatus.COMPLETED else rng.randint(10, 90)
            self.progress(user_id, course, offering, done, partial, enrolled_at, end)
            if force_active or rng.random() < spec.chat_share:
                self.chat(user_id, course, rng.randrange(done), enrolled_at, end)

    def progress(
        self,
        user_id: int,
        course: CourseInfo,
        offering: Offering,
        done: int,
        partial: int,
        start: datetime,
        end: datetime,
    ) -> None:
        """Items 0..done-1 of the course in order: all at 100 but the last, which is at `partial`; then every
        module over those items with the roll-up's percent (floor of the mean over its published items)."""
        w = self.w
        new_id, types, base = w.copier.new_id, w.item_types, course.first_item - w.first_item_id
        step = (end - start) / done
        times = [start + step * (i + 1) for i in range(done)]
        for i in range(done):
            item_id = course.first_item + i
            percent = 100 if i < done - 1 else partial
            attempts = 1 + item_id % 3 if types[base + i] in ATTEMPTED else 0
            at = times[i]
            self.items.add(
                new_id("user_content_progress"),
                user_id,
                offering.id,
                item_id,
                percent,
                attempts,
                at - step / 2,
                at,
                at if percent == 100 else None,
            )
        full = done if partial == 100 else done - 1
        for module_id, lo, hi in course.modules:
            if lo >= done:
                break  # preorder: every later module starts at or after this offset
            if hi == lo:
                continue
            total = 100 * max(0, min(hi, full) - lo) + (partial if partial < 100 and lo <= done - 1 < hi else 0)
            percent = total // (hi - lo)
            last = min(hi, done) - 1
            self.modules.add(
                new_id("user_module_progress"),
                user_id,
                offering.id,
                module_id,
                percent,
                times[lo] - step / 2,
                times[last] if percent == 100 else None,
            )

    def chat(self, user_id: int, course: CourseInfo | None, index: int, start: datetime, end: datetime) -> None:
        w, rng = self.w, self.w.rng
        new_id = w.copier.new_id
        session_id = new_id("chat_sessions")
        if course is not None:
            item_id = course.first_item + index
            leaf = course.leaves[bisect_right(course.leaves, (index, 1 << 62)) - 1]
            type_name = TYPE_NAMES[w.item_types[item_id - w.first_item_id]]
            context: dict[str, Any] = snapshot(
                w.seed, item_id, type_name, course.subject, (leaf[1], leaf[2]), (course.id, course.title, course.code)
            )
            title, topic = context["content_item"]["title"], course.subject.lower()
        else:
            item_id, context, title, topic = None, {}, "this course", "studying"
        provider, model, _ = rng.choices(MODELS, [m[2] for m in MODELS])[0]
        at = start + (end - start) * rng.random()
        opened = at
        turns = rng.randint(*w.spec.turns)
        history = 0
        assistant_ids: list[int] = []
        previous: int | None = None  # each message follows the one before: one path (the session's active leaf is
        # left NULL, which reads as its newest message)
        for _ in range(turns):
            question = rng.choice(USER_QUESTIONS).format(topic=topic, title=title)
            at += timedelta(minutes=rng.uniform(0.5, 4))
            question_id = new_id("chat_messages")
            self.messages.add(question_id, session_id, previous, MessageRole.USER.value, question, "{}", at)
            reply = rng.choice(ASSISTANT_REPLIES).format(topic=topic, title=title)
            output_tokens = rng.randint(40, 320)
            history += len(question) // 4 + output_tokens
            latency = rng.randint(900, 6000)
            meta: dict[str, Any] = {
                "provider": provider,
                "model": model,
                "prompt": PROMPT_REF,
                "input_tokens": 900 + history,
                "output_tokens": output_tokens,
                "time_to_first_token_ms": latency // 4,
                "latency_ms": latency,
                "stop_reason": "end_turn",
            }
            at += timedelta(milliseconds=latency)
            if rng.random() < 0.12:
                meta["feedback"] = {
                    "rating": "up" if rng.random() < 0.8 else "down",
                    "comment": rng.choice(FEEDBACK_COMMENTS),
                    "at": at.isoformat(),
                }
            message_id = new_id("chat_messages")
            assistant_ids.append(message_id)
            self.messages.add(
                message_id, session_id, question_id, MessageRole.ASSISTANT.value, reply, json.dumps(meta), at
            )
            previous = message_id
        shared = rng.random() < 0.03
        token = f"{rng.getrandbits(256):064x}" if shared else None
        self.sessions.add(session_id, user_id, item_id, json.dumps(context), shared, token, opened, at)
        if rng.random() < 0.1:
            self.notes.add(new_id("chat_notes"), session_id, rng.choice(assistant_ids), rng.choice(NOTES), None, at)


async def seed_activity(w: World) -> None:
    c, rng, spec = w.copier, w.rng, w.spec
    c.start_phase("enrolments, progress and chats", sum(len(u.students) for u in w.universities))
    writer = ActivityWriter(w)
    # Sessions are created (in the Table registry) before messages and notes, so their rows are flushed first.
    for uni in w.universities:
        if not uni.courses:
            c.reporter.advance(len(uni.students))
            continue
        weights = [1 / (rank + 1) ** 0.8 for rank in range(len(uni.courses))]
        for student in uni.students:
            forced = student == w.student_id
            k = 2 if forced else max(1, min(6, len(uni.courses), round(rng.gauss(spec.enrolments_per_student, 1))))
            chosen = list(dict.fromkeys(rng.choices(uni.courses, weights, k=k + 2)))[:k]
            if forced:
                chosen = uni.courses[:2]
            for course_index in chosen:
                writer.enrol(student, w.courses[course_index], force_active=forced)
            if rng.random() < 0.03:
                writer.chat(student, None, 0, w.now - timedelta(days=20), w.now - HOUR)
            c.reporter.advance()
            await c.maybe_flush()
    await c.end_phase()


async def seed_feedback_and_streaks(w: World) -> None:
    c, rng = w.copier, w.rng
    count = max(6, min(400, w.spec.users // 40))
    c.start_phase("feature requests and streaks", count + 1)
    table: Table = c.table(
        "feature_requests", ["id", "user_id", "title", "description", "status", "created_at", "updated_at"]
    )
    statuses = list(FeatureRequestStatus)
    for n in range(count):
        title, description = FEATURE_REQUESTS[n % len(FEATURE_REQUESTS)]
        created = w.now - timedelta(days=rng.uniform(1, 120))
        status = statuses[0] if n < 2 else rng.choices(statuses, [40, 20, 15, 15, 10])[0]
        user_id = w.student_id if n == 0 else rng.choice(w.all_user_ids)
        table.add(
            c.new_id("feature_requests"),
            user_id,
            title,
            description,
            status.value,
            created,
            created + timedelta(days=rng.uniform(0, 1)),
        )
        c.reporter.advance()
    await table.flush()
    # Activity dates and streaks follow the progress and chat rows just written (local dates, as the app does).
    await c.conn.execute(
        """
        WITH activity AS (
            SELECT user_id, max(at) AS at FROM (
                SELECT user_id, max(last_interacted_at) AS at FROM user_content_progress
                WHERE user_id >= $1 GROUP BY user_id
                UNION ALL
                SELECT s.user_id, max(m.created_at) FROM chat_messages m JOIN chat_sessions s ON s.id = m.session_id
                WHERE s.user_id >= $1 AND m.role = 'USER' GROUP BY s.user_id
            ) AS both_kinds GROUP BY user_id
        )
        UPDATE users AS u
        SET last_activity_date = (activity.at AT TIME ZONE u.time_zone)::date,
            current_streak_days = CASE
                WHEN (activity.at AT TIME ZONE u.time_zone)::date >= (now() AT TIME ZONE u.time_zone)::date - 1
                THEN 1 + u.id % 12 ELSE 1 + u.id % 4 END
        FROM activity WHERE u.id = activity.user_id
        """,
        w.first_user_id,
    )
    c.reporter.advance()
    await c.end_phase()
