"""Run a read on the session's own asyncpg connection, skipping SQLAlchemy's result processing.

For a bulk read whose rows go straight into plain dicts (the course tree: 12,000 rows for a 10,000-item course),
SQLAlchemy's per-row result processing costs more than the query. `driver_fetch` runs the SQL on the connection
(and in the transaction) the session already uses, and still tells the engine's `before_cursor_execute` and
`after_cursor_execute` listeners about it, so statement counters and SQL logging see every statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession


async def driver_fetch(session: AsyncSession, sql: str, *args: Any) -> Sequence[Any]:
    """asyncpg Records (index or name access) for `sql` with `$1`-style `args`."""
    connection = await session.connection()
    sync = connection.sync_connection
    assert sync is not None
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    dispatch = sync.dispatch
    if dispatch.before_cursor_execute:
        dispatch.before_cursor_execute(sync, None, sql, args, None, False)
    rows: Sequence[Any] = await driver.fetch(sql, *args)
    if dispatch.after_cursor_execute:
        dispatch.after_cursor_execute(sync, None, sql, args, None, False)
    return rows
