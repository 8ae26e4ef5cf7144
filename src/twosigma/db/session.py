"""The two ways a request reaches the database, both sessions of the app's one sessionmaker.

- The unit of work: one session per request, committed once before the response is sent.
- A read outside it (`read_session`): the per-request principal, read before the endpoint's unit of work exists.
  Its session is never committed, so nothing run through it persists.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Annotated, Any, TypeVarTuple

from fastapi import Depends, Request
from sqlalchemy import Result, Select
from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.db.engine import Database
from twosigma.kit.state import app_state

_Ts = TypeVarTuple("_Ts")


def get_database(request: Request) -> Database:
    return app_state(request).database


class ReadSession:
    """A session that only reads: `execute` takes a SELECT, and there is no `add`, `flush` or `commit`.

    Opened by `read_session`, which ends its transaction with a rollback: a statement that writes anyway (a
    data-modifying CTE inside the SELECT) does not persist.
    """

    __slots__ = ("_session",)

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def execute(self, statement: Select[*_Ts], params: Mapping[str, Any] | None = None) -> Result[*_Ts]:
        return await self._session.execute(statement, params)


@asynccontextmanager
async def read_session(database: Database) -> AsyncIterator[ReadSession]:
    """A session of `database.sessionmaker` for reads outside the request's unit of work; never committed.

    Closing the session at the end of the block rolls its transaction back (BEGIN … ROLLBACK in production; in the
    tests, whose sessionmaker is bound to the test's transaction, a SAVEPOINT rolled back to), and a connection it
    lost is invalidated by the pool like any session's: the error handlers answer 503.
    """
    async with database.sessionmaker() as session:
        yield ReadSession(session)


@asynccontextmanager
async def unit_of_work(request: Request) -> AsyncIterator[AsyncSession]:
    """A session committed at the end of the block (rolled back on any error): the request's unit of work."""
    async with get_database(request).sessionmaker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


async def get_db_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with unit_of_work(request) as session:
        yield session


# scope="function": the commit runs after the endpoint returns and before the response is sent, so a failed
# commit is an error response rather than a lie.
DbSession = Annotated[AsyncSession, Depends(get_db_session, scope="function")]
# A hot read path that can usually answer from a process cache opens `unit_of_work(request)` itself, only when it
# needs the database (the cached Langfuse prompt GET): same commit-before-response rule, no session otherwise.
