"""The unit of work: one session per request, committed once before the response is sent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.db.engine import Database
from twosigma.kit.state import app_state


def get_database(request: Request) -> Database:
    return app_state(request).database


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
