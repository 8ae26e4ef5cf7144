"""Reads on the asyncpg connection itself, skipping SQLAlchemy's per-statement and per-row machinery.

For a bulk read whose rows go straight into plain dicts (the course tree: 12,000 rows for a 10,000-item course),
SQLAlchemy's per-row result processing costs more than the query. `driver_fetch` runs the SQL on the connection
(and in the transaction) the session already uses.

`pooled_fetch` runs one read on a pooled connection outside any transaction (a single statement is its own
snapshot, exactly as it would be inside a READ COMMITTED transaction): no session, no BEGIN/COMMIT round trips.
The per-request principal lookup uses it, which every authenticated request pays for (an ORM session costs ~6x the
query itself there). A dead connection is invalidated and reported as the engine would (a 503); a database bound to
one connection (the tests' transaction) runs it on that connection.

Both still tell the engine's `before_cursor_execute` and `after_cursor_execute` listeners about the statement, so
statement counters and SQL logging see every statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.pool import PoolProxiedConnection

from twosigma.db.engine import Database, check_in
from twosigma.kit.handlers import sqlstate_unavailable

_DRIVER_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError, OSError)


async def _fetch(dispatch: Any, conn: Connection | None, driver: Any, sql: str, args: tuple[Any, ...]) -> Any:
    if dispatch.before_cursor_execute:
        dispatch.before_cursor_execute(conn, None, sql, args, None, False)
    rows = await driver.fetch(sql, *args)
    if dispatch.after_cursor_execute:
        dispatch.after_cursor_execute(conn, None, sql, args, None, False)
    return rows


async def driver_fetch(session: AsyncSession, sql: str, *args: Any) -> Sequence[Any]:
    """asyncpg Records (index or name access) for `sql` with `$1`-style `args`, in the session's transaction."""
    connection = await session.connection()
    return await _on_connection(connection, sql, args)


async def _on_connection(connection: AsyncConnection, sql: str, args: tuple[Any, ...]) -> Sequence[Any]:
    sync = connection.sync_connection
    assert sync is not None
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    try:
        rows: Sequence[Any] = await _fetch(sync.dispatch, sync, driver, sql, args)
    except _DRIVER_ERRORS as exc:
        # Wrapped as SQLAlchemy wraps a session's errors, so the error handlers map it the same way: a value the
        # column cannot hold (asyncpg refuses it before sending) is a 422, a lost connection a 503, not a 500.
        raise DBAPIError(sql, args, exc, connection_invalidated=connection_lost(exc)) from exc
    return rows


def connection_lost(exc: BaseException) -> bool:
    """Whether an asyncpg error means the connection is unusable (rather than a bad statement)."""
    if isinstance(exc, OSError | asyncpg.exceptions.ConnectionDoesNotExistError | asyncpg.PostgresConnectionError):
        return True
    if isinstance(exc, asyncpg.InternalClientError) or (
        isinstance(exc, asyncpg.InterfaceError) and "closed" in str(exc)
    ):
        return True
    return sqlstate_unavailable(exc)


async def pooled_fetch(db: Database, sql: str, *args: Any) -> Sequence[Any]:
    """asyncpg Records for one read on a pooled connection, in no transaction (autocommit).

    The connection is one parked after an earlier read when there is one (`Database.parked`), else a checkout from
    the engine's pool; it is parked again afterwards. A parked connection found dead (the server restarted within
    the last moments) is discarded and the read, which changes nothing, runs once more on a connection from the
    pool, which pings it first."""
    if db.bound is not None:  # a database bound to one connection: stay inside its transaction
        return await _on_connection(db.bound, sql, args)
    parked = await db.parked.take()
    if parked is not None:
        try:
            return await _read(db, parked, sql, args)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
    return await _read(db, await _checkout(db), sql, args)


async def _checkout(db: Database) -> PoolProxiedConnection:
    dialect = db.engine.dialect
    try:
        return await db.engine.raw_connection()  # the pool's checkout, its ping included
    except dialect.loaded_dbapi.Error as exc:
        # A raw checkout does not wrap the driver's error as a session's would: wrap it the same way (a server
        # that is down or shutting down then answers 503 like any other route).
        raise DBAPIError.instance(
            None,
            None,
            exc,
            dialect.loaded_dbapi.Error,
            connection_invalidated=dialect.is_disconnect(exc, None, None),
            dialect=dialect,
        ) from exc


async def _read(db: Database, pooled: PoolProxiedConnection, sql: str, args: tuple[Any, ...]) -> Sequence[Any]:
    try:
        rows: Sequence[Any] = await _fetch(db.engine.sync_engine.dispatch, None, pooled.driver_connection, sql, args)
    except BaseException as exc:
        # Only an error the server reported leaves the connection usable (the protocol is back at "ready"); after
        # anything else (lost, cancelled, a client-side protocol error) it goes, rather than back into the pool.
        lost = not isinstance(exc, asyncpg.PostgresError) or connection_lost(exc)
        if lost:
            pooled.invalidate(exc)
            await check_in(pooled)
        else:
            await db.parked.park(pooled)
        if not isinstance(exc, _DRIVER_ERRORS):
            raise
        # The error handlers know SQLAlchemy's wrapper: a lost connection answers 503, anything else 500.
        raise DBAPIError(sql, args, exc, connection_invalidated=lost) from exc
    await db.parked.park(pooled)
    return rows
