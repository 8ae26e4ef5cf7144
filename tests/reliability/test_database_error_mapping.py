"""Regression (found by the restart suite): the server shutting down or starting up was a 500, not a 503."""

from __future__ import annotations

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_dbapi
from sqlalchemy.exc import DBAPIError

from twosigma.kit.handlers import install_error_handlers, is_database_unavailable


def _wrapped(driver_error: BaseException) -> DBAPIError:
    """What SQLAlchemy's asyncpg adapter raises for a driver error, as seen in the restart suite's logs."""
    adapted = AsyncAdapt_asyncpg_dbapi.Error(str(driver_error))
    adapted.sqlstate = adapted.pgcode = getattr(driver_error, "sqlstate", None)
    adapted.__cause__ = driver_error
    return DBAPIError.instance("SELECT 1", None, adapted, AsyncAdapt_asyncpg_dbapi.Error)


class TestDatabaseUnavailableMapping:
    @pytest.mark.parametrize(
        "driver_error",
        [
            asyncpg.CannotConnectNowError("the database system is shutting down"),
            asyncpg.AdminShutdownError("terminating connection due to administrator command"),
            asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
            ConnectionResetError(104, "Connection reset by peer"),
        ],
        ids=["starting_or_stopping", "admin_shutdown", "closed_mid_operation", "reset_by_peer"],
    )
    async def test_a_lost_or_refused_connection_is_a_503_in_the_error_shape(self, driver_error: BaseException) -> None:
        error = _wrapped(driver_error)
        assert is_database_unavailable(error)
        app = FastAPI()
        install_error_handlers(app)

        @app.get("/boom")
        async def boom() -> None:
            raise error

        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.get("/boom")
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "database_unavailable"
        assert response.headers["Retry-After"] == "1"

    def test_a_bad_statement_is_not_mistaken_for_an_outage(self) -> None:
        assert not is_database_unavailable(_wrapped(asyncpg.UndefinedTableError('relation "nope" does not exist')))
