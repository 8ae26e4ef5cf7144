"""The one place errors become HTTP responses: `{"error": {"code", "message", "details"}}`."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from twosigma.kit.errors import AppError

logger = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    414: "uri_too_long",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def error_response(
    status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(error_body(code, message, details), status_code=status, headers=headers)


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    # Only location, message and type: never echo the input back (it may hold a password).
    return [
        {"loc": [str(part) for part in err.get("loc", ())], "msg": safe_message(err), "type": err.get("type")}
        for err in exc.errors()
    ]


# Shorter strings are too likely to occur in any message ("a", "id") to mean an echo, and say nothing if they do.
_MIN_ECHO = 3
_ECHO_MESSAGE = "The submitted value is not valid."
_EMAIL_PREFIX = "value is not a valid email address"


def safe_message(err: Mapping[str, Any]) -> str:
    """A validation error's message without the submitted value in it.

    Two ways a value gets into a message: a validator that formats it (pydantic's email type quotes the offending
    characters or address literal of the input after a colon or in parentheses: only its first clause is kept),
    and any other validator that interpolates the input; a message that still contains the (string) input is
    replaced as a whole, so no validator added later can leak what was sent.
    """
    message = str(err.get("msg", ""))
    reason = (err.get("ctx") or {}).get("reason")
    if isinstance(reason, str) and message.startswith(_EMAIL_PREFIX):
        clause = reason.split(":", 1)[0].split(" (", 1)[0].rstrip(" .")
        message = f"{_EMAIL_PREFIX}: {clause}." if clause else f"{_EMAIL_PREFIX}."
    value = err.get("input")
    if isinstance(value, str):
        for form in {value, value.strip()}:
            if len(form) >= _MIN_ECHO and form in message:
                return _ECHO_MESSAGE
    return message


async def _app_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return error_response(exc.status_code, exc.error_code, exc.message, exc.details, exc.headers or None)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(422, "validation_error", "The request is not valid.", _validation_details(exc))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else "Request failed."
    if exc.status_code == 404 and message == "Not Found":
        message = "Not found."
    return error_response(exc.status_code, code, message, None, dict(exc.headers or {}) or None)


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    logger.warning("database unavailable: %s", type(exc).__name__)
    return error_response(
        503, "database_unavailable", "The database is unavailable; try again shortly.", None, {"Retry-After": "1"}
    )


# SQLSTATEs that mean "no usable connection" rather than a bad statement: class 08 (connection exception), and the
# server shutting down (57P01 admin, 57P02 crash) or not accepting connections yet (57P03 starting / shutting down).
# asyncpg's adapter raises these as a plain DBAPIError, which SQLAlchemy does not flag as a disconnect.
_UNAVAILABLE_SQLSTATES = ("57P01", "57P02", "57P03")


def sqlstate_unavailable(error: BaseException | None) -> bool:
    """Whether a driver error's SQLSTATE (asyncpg's, or the adapter's copy of it) says the connection is unusable."""
    sqlstate = getattr(error, "sqlstate", None)
    return isinstance(sqlstate, str) and (sqlstate.startswith("08") or sqlstate in _UNAVAILABLE_SQLSTATES)


def is_database_unavailable(exc: BaseException) -> bool:
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated or sqlstate_unavailable(exc.orig):
        return True
    return isinstance(getattr(exc.orig, "__cause__", None), OSError)


def is_unstorable_value(exc: BaseException) -> bool:
    """A value the database cannot take: an integer beyond its column (asyncpg refuses it client-side, before
    sending), a NUL character in text, a string that is not valid UTF-8 — SQLSTATE class 22, data exception."""
    if not isinstance(exc, DBAPIError):
        return False
    if isinstance(getattr(exc.orig, "__cause__", None), asyncpg.exceptions.DataError):
        return True
    sqlstate = getattr(exc.orig, "sqlstate", None)
    return isinstance(sqlstate, str) and sqlstate.startswith("22")


async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
    if is_database_unavailable(exc):
        return await _database_unavailable(request, exc)
    if is_unstorable_value(exc):
        # Bad input that passed the schema (e.g. an id beyond 2^31 - 1): the client's mistake, never a 500.
        logger.info("unstorable value on %s %s: %s", request.method, request.url.path, type(exc.__cause__).__name__)
        return error_response(
            422, "validation_error", "A value in the request is out of range or cannot be stored.", None
        )
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(500, "internal_error", "Internal server error.")


async def unhandled_response(request: Request, exc: Exception) -> JSONResponse:
    """The 500 (or 503 for a dropped database connection) for an exception no handler took; logs it once."""
    return await _unhandled(request, exc)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for exc_type in (OperationalError, InterfaceError, PoolTimeoutError, ConnectionError, OSError):
        app.add_exception_handler(exc_type, _database_unavailable)
    app.add_exception_handler(Exception, _unhandled)
