"""One error shape everywhere: our errors, unknown routes, wrong methods, validation, crashes."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from twosigma.kit.errors import Conflict, NotFound, RateLimited, Unauthorized


class Payload(BaseModel):
    name: str
    password: str


@pytest.fixture
def error_app(fresh_app: FastAPI) -> FastAPI:
    app = fresh_app

    @app.get("/_test/not-found")
    async def raise_not_found() -> None:
        raise NotFound("Widget not found.")

    @app.get("/_test/conflict")
    async def raise_conflict() -> None:
        raise Conflict("Already there.", code="widget_exists", details={"id": 3})

    @app.get("/_test/rate-limited")
    async def raise_rate_limited() -> None:
        raise RateLimited(retry_after=7)

    @app.get("/_test/unauthorized")
    async def raise_unauthorized() -> None:
        raise Unauthorized("Token expired.")

    @app.post("/_test/validate")
    async def validate(payload: Payload) -> dict[str, str]:
        return {"name": payload.name}

    @app.get("/_test/crash")
    async def crash() -> None:
        raise RuntimeError("secret internals")

    return app


@pytest.fixture
async def error_client(error_app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=error_app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


class TestErrorShape:
    async def test_app_error_renders_code_message_and_details(self, error_client: httpx.AsyncClient) -> None:
        response = await error_client.get("/_test/conflict")
        assert response.status_code == 409
        assert response.json() == {
            "error": {"code": "widget_exists", "message": "Already there.", "details": {"id": 3}}
        }

    async def test_not_found_error_is_404(self, error_client: httpx.AsyncClient) -> None:
        response = await error_client.get("/_test/not-found")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"

    async def test_rate_limited_carries_retry_after(self, error_client: httpx.AsyncClient) -> None:
        response = await error_client.get("/_test/rate-limited")
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "7"
        assert response.json()["error"]["code"] == "rate_limited"

    async def test_unauthorized_asks_for_bearer(self, error_client: httpx.AsyncClient) -> None:
        response = await error_client.get("/_test/unauthorized")
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"

    async def test_unknown_route_is_404_in_error_shape(self, error_client: httpx.AsyncClient) -> None:
        response = await error_client.get("/api/v1/does-not-exist")
        assert response.status_code == 404
        assert response.json() == {"error": {"code": "not_found", "message": "Not found.", "details": None}}

    async def test_wrong_method_is_405_in_error_shape(self, error_client: httpx.AsyncClient) -> None:
        response = await error_client.delete("/health")
        assert response.status_code == 405
        assert response.json()["error"]["code"] == "method_not_allowed"

    async def test_validation_error_is_422_without_echoing_input(self, error_client: httpx.AsyncClient) -> None:
        response = await error_client.post("/_test/validate", json={"password": "hunter2-secret"})
        assert response.status_code == 422
        body = response.json()
        assert body["error"]["code"] == "validation_error"
        assert body["error"]["details"][0]["loc"] == ["body", "name"]
        assert "hunter2-secret" not in response.text

    async def test_malformed_json_is_422(self, error_client: httpx.AsyncClient) -> None:
        response = await error_client.post(
            "/_test/validate", content=b"{not json", headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "validation_error"

    async def test_unhandled_exception_is_500_without_internals(self, error_client: httpx.AsyncClient) -> None:
        response = await error_client.get("/_test/crash")
        assert response.status_code == 500
        assert response.json() == {
            "error": {"code": "internal_error", "message": "Internal server error.", "details": None}
        }
        assert "secret internals" not in response.text


class TestRequestId:
    async def test_response_carries_a_generated_request_id(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/health")
        assert len(response.headers["X-Request-ID"]) == 32

    async def test_well_formed_client_request_id_is_echoed(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/health", headers={"X-Request-ID": "abc-123"})
        assert response.headers["X-Request-ID"] == "abc-123"

    async def test_malformed_client_request_id_is_replaced(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/health", headers={"X-Request-ID": "bad id\twith spaces"})
        assert response.headers["X-Request-ID"] != "bad id\twith spaces"
