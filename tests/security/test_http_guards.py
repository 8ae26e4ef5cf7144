"""Request body size and JSON depth limits, CORS from settings, and the security headers on every response."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tests.fixtures.factories import DEFAULT_PASSWORD, auth_headers, make_user
from tests.fixtures.tutor import make_lesson
from twosigma.app import create_app
from twosigma.config import Environment, Settings
from twosigma.db.engine import Database
from twosigma.kit.security import API_CSP, DOCS_CSP, MAX_URL_BYTES, json_depth_exceeds

API = "/api/v1"


def error_code(response: httpx.Response) -> str:
    code: str = response.json()["error"]["code"]
    return code


@pytest.fixture
def make_client(db_engine: AsyncEngine, test_sessionmaker: async_sessionmaker[AsyncSession]) -> object:
    """Build a client on an app with other settings (same test transaction)."""
    clients: list[httpx.AsyncClient] = []

    def build(settings: Settings) -> httpx.AsyncClient:
        app = create_app(settings=settings, database=Database(engine=db_engine, sessionmaker=test_sessionmaker))
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
        clients.append(client)
        return client

    return build


@pytest.fixture
async def small_limit_client(settings: Settings, make_client: object) -> AsyncIterator[httpx.AsyncClient]:
    assert callable(make_client)
    async with make_client(settings.model_copy(update={"max_body_bytes": 300_000})) as client:
        yield client


class TestBodySizeLimit:
    async def test_a_body_over_the_limit_is_413_in_the_error_shape(self, client: httpx.AsyncClient) -> None:
        body = {"email": "a@b.edu", "password": "x" * 1_100_000}
        response = await client.post(f"{API}/auth/login", json=body)
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "payload_too_large"
        assert response.json()["error"]["details"] == {"max_bytes": 1_048_576}

    async def test_a_chunked_body_without_content_length_is_counted_too(self, client: httpx.AsyncClient) -> None:
        async def chunks() -> AsyncIterator[bytes]:
            yield b'{"email": "a@b.edu", "password": "'
            for _ in range(20):
                yield b"x" * 60_000
            yield b'"}'

        response = await client.post(
            f"{API}/auth/login", content=chunks(), headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 413
        assert error_code(response) == "payload_too_large"

    @pytest.mark.parametrize(
        ("path", "content_type"),
        [
            (f"{API}/auth/token", "application/x-www-form-urlencoded"),
            (f"{API}/auth/login", "text/plain"),
            (f"{API}/auth/login", None),
        ],
    )
    async def test_a_chunked_body_of_any_media_type_over_the_limit_is_413(
        self, client: httpx.AsyncClient, path: str, content_type: str | None
    ) -> None:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"username=a%40b.edu&password="
            for _ in range(20):
                yield b"x" * 60_000

        headers = {"Content-Type": content_type} if content_type else {}
        response = await client.post(path, content=chunks(), headers=headers)
        assert "content-length" not in response.request.headers
        assert response.status_code == 413
        assert response.json()["error"] == {
            "code": "payload_too_large",
            "message": "The request body is larger than 1048576 bytes.",
            "details": {"max_bytes": 1_048_576},
        }

    async def test_a_chunked_form_under_the_limit_still_signs_in(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        user = await make_user(db)

        async def chunks() -> AsyncIterator[bytes]:
            yield f"username={user.email}".encode()
            yield f"&password={DEFAULT_PASSWORD}".encode()

        response = await client.post(
            f"{API}/auth/token", content=chunks(), headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert response.status_code == 200, response.text

    async def test_a_form_body_over_the_limit_is_413(self, client: httpx.AsyncClient) -> None:
        response = await client.post(f"{API}/auth/token", data={"username": "a@b.edu", "password": "x" * 1_100_000})
        assert response.status_code == 413
        assert error_code(response) == "payload_too_large"

    async def test_the_limit_comes_from_settings(self, small_limit_client: httpx.AsyncClient) -> None:
        response = await small_limit_client.post(
            f"{API}/auth/login", json={"email": "a@b.edu", "password": "x" * 310_000}
        )
        assert response.status_code == 413
        assert response.json()["error"]["details"] == {"max_bytes": 300_000}

    async def test_a_data_json_of_256_kib_still_fits(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        lesson = await make_lesson(db)
        staff = lesson.classroom.campus.instructor
        item = lesson.item
        data = {"text": "y" * (256 * 1024 - 20)}
        assert len(json.dumps(data)) <= 256 * 1024
        response = await client.patch(
            f"{API}/content-items/{item.id}", json={"data_json": data}, headers=auth_headers(settings, staff)
        )
        assert response.status_code == 200, response.text

    def test_the_limit_may_not_be_set_below_data_json_maximum(self) -> None:
        with pytest.raises(ValueError, match="max_body_bytes"):
            Settings(_env_file=None, max_body_bytes=200_000)  # type: ignore[call-arg]


class TestUrlLengthLimit:
    async def test_a_query_string_over_the_limit_is_414_in_the_error_shape(self, client: httpx.AsyncClient) -> None:
        response = await client.get(f"{API}/courses", params={"q": "a" * MAX_URL_BYTES})
        assert response.status_code == 414
        assert response.json()["error"] == {
            "code": "uri_too_long",
            "message": f"The URL is longer than {MAX_URL_BYTES} bytes.",
            "details": {"max_bytes": MAX_URL_BYTES},
        }
        assert response.headers["x-request-id"]
        assert response.headers["x-content-type-options"] == "nosniff"

    async def test_a_path_over_the_limit_is_414_too(self, client: httpx.AsyncClient) -> None:
        response = await client.post(f"{API}/auth/{'p' * MAX_URL_BYTES}", json={})
        assert response.status_code == 414

    async def test_a_url_at_the_limit_is_served(self, client: httpx.AsyncClient) -> None:
        path = f"{API}/courses"
        query = "q=" + "a" * (MAX_URL_BYTES - len(path) - len("?q="))
        response = await client.get(f"{path}?{query}")
        assert response.status_code != 414


class TestJsonDepthLimit:
    @pytest.mark.parametrize("depth", [65, 10_000])
    async def test_deeply_nested_arrays_are_422_json_too_deep(self, client: httpx.AsyncClient, depth: int) -> None:
        body = "[" * depth + "]" * depth
        response = await client.post(f"{API}/auth/login", content=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 422
        assert error_code(response) == "json_too_deep"

    async def test_deeply_nested_objects_inside_a_field_are_refused(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        lesson = await make_lesson(db)
        body = '{"data_json": ' + _nested_object(10_000) + "}"
        response = await client.patch(
            f"{API}/content-items/{lesson.item.id}",
            content=body,
            headers={"Content-Type": "application/json"} | auth_headers(settings, lesson.classroom.campus.instructor),
        )
        assert response.status_code == 422
        assert error_code(response) == "json_too_deep"

    async def test_sixty_four_levels_are_accepted(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        lesson = await make_lesson(db)
        body = '{"data_json": ' + _nested_object(63) + "}"
        response = await client.patch(
            f"{API}/content-items/{lesson.item.id}",
            content=body,
            headers={"Content-Type": "application/json"} | auth_headers(settings, lesson.classroom.campus.instructor),
        )
        assert response.status_code == 200, response.text

    async def test_brackets_inside_strings_do_not_count(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        lesson = await make_lesson(db)
        body = json.dumps({"data_json": {"text": "[" * 5000 + '\\"{' * 100}})
        response = await client.patch(
            f"{API}/content-items/{lesson.item.id}",
            content=body,
            headers={"Content-Type": "application/json"} | auth_headers(settings, lesson.classroom.campus.instructor),
        )
        assert response.status_code == 200, response.text

    def test_the_depth_scan_handles_escaped_quotes(self) -> None:
        assert not json_depth_exceeds(json.dumps(["\\", "[" * 100]).encode(), 64)
        assert json_depth_exceeds(b'["\\\\"' + b"[" * 70, 64)


def _nested_object(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


class TestCors:
    @pytest.fixture
    async def cors_client(self, settings: Settings, make_client: object) -> AsyncIterator[httpx.AsyncClient]:
        assert callable(make_client)
        async with make_client(settings.model_copy(update={"cors_origins": ["https://app.example.edu"]})) as client:
            yield client

    async def test_an_allowed_origin_gets_the_allow_origin_header(self, cors_client: httpx.AsyncClient) -> None:
        response = await cors_client.get("/health", headers={"Origin": "https://app.example.edu"})
        assert response.headers["access-control-allow-origin"] == "https://app.example.edu"
        assert response.headers["access-control-allow-credentials"] == "true"

    async def test_another_origin_gets_no_allow_origin_header(self, cors_client: httpx.AsyncClient) -> None:
        response = await cors_client.get("/health", headers={"Origin": "https://evil.example.com"})
        assert response.status_code == 200
        assert "access-control-allow-origin" not in response.headers

    async def test_a_preflight_from_an_allowed_origin_is_answered(self, cors_client: httpx.AsyncClient) -> None:
        response = await cors_client.options(
            f"{API}/auth/login",
            headers={
                "Origin": "https://app.example.edu",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type,authorization",
            },
        )
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == "https://app.example.edu"
        assert "POST" in response.headers["access-control-allow-methods"]

    async def test_a_preflight_from_another_origin_is_refused(self, cors_client: httpx.AsyncClient) -> None:
        response = await cors_client.options(
            f"{API}/auth/login",
            headers={"Origin": "https://evil.example.com", "Access-Control-Request-Method": "POST"},
        )
        assert response.status_code == 400
        assert "access-control-allow-origin" not in response.headers

    async def test_without_configured_origins_no_cors_headers_are_sent(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/health", headers={"Origin": "https://app.example.edu"})
        assert "access-control-allow-origin" not in response.headers

    async def test_an_error_response_is_readable_by_an_allowed_origin(self, cors_client: httpx.AsyncClient) -> None:
        response = await cors_client.post(
            f"{API}/auth/login",
            content=b"[" * 100 + b"]" * 100,
            headers={"Origin": "https://app.example.edu", "Content-Type": "application/json"},
        )
        assert response.status_code == 422
        assert response.headers["access-control-allow-origin"] == "https://app.example.edu"


EXPECTED_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


class TestSecurityHeaders:
    @pytest.mark.parametrize(
        ("method", "path", "status"),
        [
            ("GET", "/health", 200),
            ("GET", "/openapi.json", 200),
            ("GET", f"{API}/users/me", 401),
            ("GET", "/no/such/route", 404),
            ("POST", f"{API}/auth/login", 422),
            ("GET", "/metrics", 401),
        ],
    )
    async def test_every_response_carries_the_headers(
        self, client: httpx.AsyncClient, method: str, path: str, status: int
    ) -> None:
        response = await client.request(method, path)
        assert response.status_code == status
        for name, value in EXPECTED_HEADERS.items():
            assert response.headers[name] == value
        assert response.headers["content-security-policy"] == API_CSP
        assert "strict-transport-security" not in response.headers

    async def test_a_413_carries_them_too(self, client: httpx.AsyncClient) -> None:
        response = await client.post(f"{API}/auth/login", content=b"x" * 1_100_000)
        assert response.status_code == 413
        assert response.headers["x-frame-options"] == "DENY"

    async def test_an_unhandled_error_is_500_in_the_error_shape_with_the_headers(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        @app.get("/boom")
        async def boom() -> None:
            raise RuntimeError("internal detail")

        # The app is the test session's: take the route out again, or later tests see an undocumented /boom.
        added = app.router.routes[-1]
        try:
            response = await client.get("/boom")
        finally:
            app.router.routes.remove(added)
        assert response.status_code == 500
        assert response.json()["error"]["code"] == "internal_error"
        assert "internal detail" not in response.text
        assert response.headers["x-content-type-options"] == "nosniff"

    @pytest.mark.parametrize("path", ["/docs", "/docs/oauth2-redirect"])
    async def test_the_docs_pages_get_a_policy_that_lets_them_load(self, client: httpx.AsyncClient, path: str) -> None:
        response = await client.get(path)
        assert response.status_code == 200
        assert response.headers["content-security-policy"] == DOCS_CSP
        assert response.headers["x-frame-options"] == "DENY"

    async def test_the_docs_policy_lets_the_page_load_only_from_the_app_itself(self, client: httpx.AsyncClient) -> None:
        policy = (await client.get("/docs")).headers["content-security-policy"]
        assert "script-src 'self' 'unsafe-inline';" in policy
        assert "style-src 'self' 'unsafe-inline';" in policy
        assert "http" not in policy

    async def test_production_adds_strict_transport_security(self, settings: Settings, make_client: object) -> None:
        assert callable(make_client)
        production = settings.model_copy(update={"environment": Environment.PRODUCTION})
        async with make_client(production) as client:
            response = await client.get("/health")
        assert response.headers["strict-transport-security"].startswith("max-age=")
