"""Structured logs: one access line per request (request id, user id, method, route template, status, duration)."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from tests.fixtures.courses import make_campus
from tests.fixtures.factories import auth_headers
from twosigma.app import create_app
from twosigma.config import Settings
from twosigma.db.engine import Database, make_sessionmaker
from twosigma.kit.logging import ACCESS_LOGGER, JsonFormatter, configure_logging

API = "/api/v1"


def access_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == ACCESS_LOGGER]


@pytest.fixture
def access(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    return caplog


class TestAccessLine:
    async def test_an_authenticated_request_logs_one_line_with_the_route_template_and_user(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, access: pytest.LogCaptureFixture
    ) -> None:
        campus = await make_campus(db)
        response = await client.get(f"{API}/courses/{campus.course.id}", headers=auth_headers(settings, campus.student))
        assert response.status_code == 200
        (record,) = access_records(access)
        line = json.loads(JsonFormatter().format(record))
        assert line["request_id"] == response.headers["X-Request-ID"]
        assert line["user_id"] == campus.student.id
        assert line["method"] == "GET"
        assert line["route"] == "/api/v1/courses/{course_id}"
        assert line["status"] == 200
        assert isinstance(line["duration_ms"], float)
        assert line["level"] == "INFO"
        assert line["logger"] == ACCESS_LOGGER

    async def test_an_anonymous_request_has_no_user_id(
        self, client: httpx.AsyncClient, access: pytest.LogCaptureFixture
    ) -> None:
        response = await client.get(f"{API}/users/me")
        assert response.status_code == 401
        (record,) = access_records(access)
        assert not hasattr(record, "user_id")
        assert record.__dict__["status"] == 401
        assert record.__dict__["route"] == "/api/v1/users/me"

    async def test_a_client_request_id_is_kept(
        self, client: httpx.AsyncClient, access: pytest.LogCaptureFixture
    ) -> None:
        await client.get("/health", headers={"X-Request-ID": "trace-abc-123"})
        (record,) = access_records(access)
        assert record.__dict__["request_id"] == "trace-abc-123"

    async def test_an_unknown_path_is_logged_as_unmatched_not_as_the_raw_path(
        self, client: httpx.AsyncClient, access: pytest.LogCaptureFixture
    ) -> None:
        response = await client.get("/api/v1/no-such-thing/secret-looking-id-123")
        assert response.status_code == 404
        (record,) = access_records(access)
        assert record.__dict__["route"] == "<unmatched>"
        assert "secret-looking-id-123" not in JsonFormatter().format(record)

    async def test_a_share_token_in_the_path_is_not_logged(
        self, client: httpx.AsyncClient, access: pytest.LogCaptureFixture
    ) -> None:
        token = "t" * 43
        await client.get(f"{API}/shared/chats/{token}")
        (record,) = access_records(access)
        assert record.__dict__["route"] == "/api/v1/shared/chats/{token}"
        assert token not in JsonFormatter().format(record)

    async def test_a_refused_body_is_logged_with_its_status(
        self, client: httpx.AsyncClient, access: pytest.LogCaptureFixture
    ) -> None:
        response = await client.post(f"{API}/auth/login", content=b"x" * 1_100_000)
        assert response.status_code == 413
        (record,) = access_records(access)
        assert record.__dict__["status"] == 413

    async def test_the_docs_page_is_logged_with_its_path(
        self, client: httpx.AsyncClient, access: pytest.LogCaptureFixture
    ) -> None:
        await client.get("/docs")
        (record,) = access_records(access)
        assert record.__dict__["route"] == "/docs"


@pytest.fixture
def clean_root() -> Iterator[logging.Logger]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    # Another test may have built a server app in this process (which configures logging): start clean.
    root.handlers[:] = [h for h in handlers if h.get_name() != "twosigma-root"]
    uvicorn_handlers = list(logging.getLogger("uvicorn").handlers)
    access_disabled = logging.getLogger("uvicorn.access").disabled
    try:
        yield root
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        logging.getLogger("uvicorn").handlers[:] = uvicorn_handlers
        logging.getLogger("uvicorn.access").disabled = access_disabled


class TestConfiguration:
    def test_configuring_twice_adds_one_handler(self, clean_root: logging.Logger) -> None:
        before = len(clean_root.handlers)
        configure_logging("INFO")
        configure_logging("DEBUG")
        assert len(clean_root.handlers) == before + 1
        assert isinstance(clean_root.handlers[-1].formatter, JsonFormatter)

    def test_an_app_built_on_a_test_database_leaves_logging_alone(
        self, clean_root: logging.Logger, settings: Settings, db_engine: AsyncEngine
    ) -> None:
        before = list(clean_root.handlers)
        create_app(settings=settings, database=Database(engine=db_engine, sessionmaker=make_sessionmaker(db_engine)))
        assert clean_root.handlers == before

    def test_a_server_app_configures_logging_once(self, clean_root: logging.Logger, settings: Settings) -> None:
        create_app(settings=settings)
        create_app(settings=settings)
        assert [h.get_name() for h in clean_root.handlers].count("twosigma-root") == 1

    def test_the_handler_follows_a_replaced_stderr(
        self, clean_root: logging.Logger, capsys: pytest.CaptureFixture[str]
    ) -> None:
        configure_logging("INFO")
        logging.getLogger("twosigma.test").warning("to the current stderr")
        line = capsys.readouterr().err.strip().splitlines()[-1]
        assert json.loads(line)["message"] == "to the current stderr"

    def test_a_record_with_an_exception_is_one_json_line(self) -> None:
        try:
            raise ValueError("boom")
        except ValueError:
            record = logging.getLogger("x").makeRecord(
                "x", logging.ERROR, __file__, 1, "failed %s", ("here",), sys.exc_info()
            )
        line = JsonFormatter().format(record)
        assert "\n" not in line
        parsed = json.loads(line)
        assert parsed["message"] == "failed here"
        assert "ValueError: boom" in parsed["exc_info"]
