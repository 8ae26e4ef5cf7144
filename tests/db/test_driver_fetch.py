"""driver_fetch (db/driver.py): a read on the session's own asyncpg connection, inside its transaction, that the
engine's statement listeners still see."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from twosigma.db.driver import driver_fetch


async def test_it_reads_inside_the_sessions_transaction(db: AsyncSession) -> None:
    await db.execute(text("CREATE TEMP TABLE driver_probe (n int) ON COMMIT DROP"))
    await db.execute(text("INSERT INTO driver_probe VALUES (1), (2), (3)"))  # not committed
    rows = await driver_fetch(db, "SELECT n FROM driver_probe WHERE n >= $1 ORDER BY n", 2)
    assert [r[0] for r in rows] == [2, 3]
    assert [r["n"] for r in rows] == [2, 3]


async def test_the_engines_statement_listeners_see_it(db: AsyncSession, db_engine: AsyncEngine) -> None:
    seen: list[tuple[str, Any]] = []
    after: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        seen.append((statement, parameters))

    def done(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        after.append(statement)

    event.listen(db_engine.sync_engine, "before_cursor_execute", before)
    event.listen(db_engine.sync_engine, "after_cursor_execute", done)
    try:
        await driver_fetch(db, "SELECT $1::int + 1", 41)
    finally:
        event.remove(db_engine.sync_engine, "before_cursor_execute", before)
        event.remove(db_engine.sync_engine, "after_cursor_execute", done)
    # (The test harness's own SAVEPOINT may come first: this session runs in the test's transaction.)
    assert [s for s in seen if "SAVEPOINT" not in s[0]] == [("SELECT $1::int + 1", (41,))]
    assert [s for s in after if "SAVEPOINT" not in s] == ["SELECT $1::int + 1"]
