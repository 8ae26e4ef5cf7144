"""The practical limit: a minimal Starlette + asyncpg + orjson app running the same SQL as each app scenario.

No ORM, no validation, no dependency injection: the JWT is decoded, the rows are fetched with the same statements
(prepared, through an asyncpg pool) and the answer is built from tuples and serialized by orjson. Run by uvicorn
as `bench.raw_app:app` with BENCH_DATABASE_URL (a libpq URL) and BENCH_SECRET_KEY in the environment.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
import jwt
import orjson
from sqlalchemy import Executable
from sqlalchemy.dialects.postgresql import asyncpg as pg_asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import twosigma.models  # noqa: F401  (every mapper, so the app's statements compile)
from twosigma.progress.repository import LOCATE_AND_LOCK, UPSERT_ITEM, progress_lock_key
from twosigma.progress.rollup import ROLL_UP
from twosigma.users.repository import LOCK_STREAK, SET_STREAK
from twosigma.users.streaks import local_today, next_streak

SECRET = os.environ.get("BENCH_SECRET_KEY", "")

USER = (
    "SELECT id, email, full_name, locale, time_zone, is_active, current_streak_days, last_activity_date, created_at,"
    " updated_at FROM users WHERE id = $1"
)
GRANTS = "SELECT university_id, role, department_id FROM user_university_roles WHERE user_id = $1 ORDER BY id"
COURSE = "SELECT id, university_id, is_published FROM courses WHERE id = $1"
ENROLLED = (
    "SELECT EXISTS (SELECT 1 FROM course_enrollments e JOIN course_offerings o ON o.id = e.course_offering_id"
    " WHERE e.user_id = $1 AND o.course_id = $2 AND e.status IN ('ACTIVE', 'COMPLETED'))"
)
MODULES = (
    "SELECT id, parent_module_id, title, description, module_type, sequence_index, depth, is_published FROM modules"
    " WHERE course_id = $1 ORDER BY depth, parent_module_id, sequence_index, id"
)
ITEMS = (
    "SELECT ci.id, ci.module_id, ci.title, ct.name, ci.content_type_id, ci.sequence_index,"
    " ci.estimated_duration_seconds FROM content_items ci JOIN content_types ct ON ct.id = ci.content_type_id"
    " WHERE ci.course_id = $1 ORDER BY ci.module_id, ci.sequence_index, ci.id"
)
OFFERING = (
    "SELECT o.id, o.course_id, c.university_id FROM course_offerings o JOIN courses c ON c.id = o.course_id"
    " WHERE o.id = $1"
)
ENROLMENT = "SELECT id, status FROM course_enrollments WHERE user_id = $1 AND course_offering_id = $2"


class AppStatement:
    """One of the app's own statements (a progress write's), compiled once for asyncpg: its SQL, with `$n`
    parameters, and the names those stand for."""

    def __init__(self, statement: Executable) -> None:
        compiled = statement.compile(dialect=pg_asyncpg.dialect())
        self.sql = compiled.string
        self.names = tuple(compiled.positiontup or ())

    def args(self, **params: Any) -> list[Any]:
        return [params[name] for name in self.names]


LOCATE = AppStatement(LOCATE_AND_LOCK)
UPSERT = AppStatement(UPSERT_ITEM)
ROLL = AppStatement(ROLL_UP)
LOCK = AppStatement(LOCK_STREAK)
SET = AppStatement(SET_STREAK)

pool: asyncpg.Pool | None = None


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


def _user_id(request: Request) -> int | None:
    header = request.headers.get("authorization", "")
    if not header.startswith("Bearer "):
        return None
    try:
        claims = jwt.decode(header[7:], SECRET, algorithms=["HS256"])
    except jwt.PyJWTError:
        return None
    return int(claims["sub"]) if claims.get("type") == "access" else None


async def _principal(conn: asyncpg.Connection, request: Request) -> tuple[Any, list[Any]] | None:
    user_id = _user_id(request)
    if user_id is None:
        return None
    user = await conn.fetchrow(USER, user_id)
    if user is None or not user["is_active"]:
        return None
    return user, await conn.fetch(GRANTS, user_id)


async def health(request: Request) -> Response:
    return _json({"status": "ok"})


async def me(request: Request) -> Response:
    assert pool is not None
    async with pool.acquire() as conn:
        found = await _principal(conn, request)
    if found is None:
        return _json({"error": {"code": "not_authenticated"}}, 401)
    user, grants = found
    out = dict(user)
    out["roles"] = [{"university_id": g[0], "role": g[1], "department_id": g[2]} for g in grants]
    return _json(out)


def _tree(modules: list[Any], items: list[Any]) -> dict[str, Any] | None:
    children: dict[int | None, list[Any]] = defaultdict(list)
    for row in modules:
        children[row[1]].append(row)
    by_module: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for r in items:
        by_module[r[1]].append(
            {
                "id": r[0],
                "title": r[2],
                "content_type": r[3],
                "content_type_id": r[4],
                "sequence_index": r[5],
                "estimated_duration_seconds": r[6],
            }
        )

    def node(row: Any) -> dict[str, Any]:
        return {
            "id": row[0],
            "parent_module_id": row[1],
            "title": row[2],
            "description": row[3],
            "module_type": row[4],
            "sequence_index": row[5],
            "depth": row[6],
            "is_published": row[7],
            "content_items": by_module.get(row[0], []),
            "children": [],
        }

    roots = children.get(None)
    if not roots:
        return None
    root = node(roots[0])
    stack = [root]
    while stack:
        parent = stack.pop()
        for row in children.get(parent["id"], []):
            if row[7]:
                child = node(row)
                parent["children"].append(child)
                stack.append(child)
    return root


async def tree(request: Request) -> Response:
    assert pool is not None
    course_id = int(request.path_params["course_id"])
    async with pool.acquire() as conn:
        found = await _principal(conn, request)
        if found is None:
            return _json({"error": {"code": "not_authenticated"}}, 401)
        user, _ = found
        course = await conn.fetchrow(COURSE, course_id)
        if course is None or not await conn.fetchval(ENROLLED, user["id"], course_id):
            return _json({"error": {"code": "not_found"}}, 404)
        modules = await conn.fetch(MODULES, course_id)
        items = await conn.fetch(ITEMS, course_id)
    return _json({"course_id": course_id, "root": _tree(modules, items)})


async def progress(request: Request) -> Response:
    assert pool is not None
    offering_id = int(request.path_params["offering_id"])
    item_id = int(request.path_params["item_id"])
    body = orjson.loads(await request.body())
    percent, attempt = int(body["progress_percent"]), bool(body.get("attempt", False))
    now = datetime.now(UTC)
    async with pool.acquire() as conn, conn.transaction():
        found = await _principal(conn, request)
        if found is None:
            return _json({"error": {"code": "not_authenticated"}}, 401)
        user, _ = found
        offering = await conn.fetchrow(OFFERING, offering_id)
        enrolment = await conn.fetchrow(ENROLMENT, user["id"], offering_id)
        if offering is None or enrolment is None or enrolment["status"] != "ACTIVE":
            return _json({"error": {"code": "not_found"}}, 404)
        lock_key = progress_lock_key(user["id"], offering_id)
        course_id = offering["course_id"]
        path = await conn.fetchrow(LOCATE.sql, *LOCATE.args(item_id=item_id, course_id=course_id, lock_key=lock_key))
        ids = path["ancestors"]
        if not ids or not path["published"]:
            return _json({"error": {"code": "not_found"}}, 404)
        written = {"user_id": user["id"], "offering_id": offering_id, "now": now}
        item = await conn.fetchrow(
            UPSERT.sql, *UPSERT.args(**written, item_id=item_id, percent=percent, attempts=int(attempt))
        )
        rolled = {
            r["module_id"]: (r["progress_percent"], r["completed_at"])
            for r in await conn.fetch(ROLL.sql, *ROLL.args(**written, ancestors=list(ids), course_id=course_id))
        }
        days, last, zone = await conn.fetchrow(LOCK.sql, *LOCK.args(user_id=user["id"]))
        streak = next_streak(days, last, local_today(zone, now))
        if streak != (days, last):
            await conn.execute(SET.sql, *SET.args(user_id=user["id"], days=streak[0], last=streak[1]))
    return _json(
        {
            "item": dict(item),
            "modules": [{"module_id": m, "progress_percent": rolled[m][0], "completed_at": rolled[m][1]} for m in ids],
            "course_progress_percent": rolled[ids[-1]][0],
            "enrollment_status": enrolment["status"],
        }
    )


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    global pool
    pool = await asyncpg.create_pool(os.environ["BENCH_DATABASE_URL"], min_size=4, max_size=20)
    yield
    await pool.close()


app = Starlette(
    routes=[
        Route("/health", health),
        Route("/api/v1/users/me", me),
        Route("/api/v1/courses/{course_id:int}/tree", tree),
        Route("/api/v1/offerings/{offering_id:int}/progress/content-items/{item_id:int}", progress, methods=["PUT"]),
    ],
    lifespan=lifespan,
)
