"""The unit of work: one session per request, committed once before the response is sent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.db.engine import Database


def get_database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def get_db_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with get_database(request).sessionmaker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


# scope="function": the commit runs after the endpoint returns and before the response is sent, so a failed
# commit is an error response rather than a lie.
DbSession = Annotated[AsyncSession, Depends(get_db_session, scope="function")]
