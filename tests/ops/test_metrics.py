"""GET /metrics: Prometheus text with requests, latency, LLM tokens and latency, and the database pool; served to
the holder of the metrics token, or to anyone only when the operator opened it (TWOSIGMA_METRICS_PUBLIC)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tests.fakes import FakeAnthropic
from tests.fixtures.factories import auth_headers, make_member, make_university, metrics_headers
from tests.fixtures.tutor import make_chat, make_lesson
from twosigma.app import create_app
from twosigma.config import Environment, Settings
from twosigma.db.engine import Database
from twosigma.enums import UserRole

API = "/api/v1"


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    found: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, frozenset(labels.items())), 0.0)


async def scrape(client: httpx.AsyncClient, settings: Settings) -> str:
    response = await client.get("/metrics", headers=metrics_headers(settings))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


class TestRequestMetrics:
    async def test_requests_are_counted_by_route_template_method_and_status(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        before = await scrape(client, settings)
        for _ in range(3):
            await client.get(f"{API}/departments/2147483000")
        await client.get(f"{API}/users/me")
        after = await scrape(client, settings)
        route = "/api/v1/departments/{department_id}"
        labels = {"route": route, "method": "GET", "status": "404"}
        assert (
            value(after, "twosigma_http_requests_total", **labels)
            - value(before, "twosigma_http_requests_total", **labels)
            == 3
        )
        me = {"route": "/api/v1/users/me", "method": "GET", "status": "401"}
        assert value(after, "twosigma_http_requests_total", **me) >= 1
        count = "twosigma_http_request_duration_seconds_count"
        assert value(after, count, route=route, method="GET") - value(before, count, route=route, method="GET") == 3

    async def test_raw_ids_never_become_labels(self, client: httpx.AsyncClient, settings: Settings) -> None:
        await client.get(f"{API}/departments/2147483001")
        await client.get("/totally/unknown/path-xyz")
        text = await scrape(client, settings)
        assert "2147483001" not in text
        assert "path-xyz" not in text
        assert value(text, "twosigma_http_requests_total", route="<unmatched>", method="GET", status="404") >= 1

    async def test_the_database_pool_is_reported(self, client: httpx.AsyncClient, settings: Settings) -> None:
        text = await scrape(client, settings)
        assert value(text, "twosigma_db_pool_size") == settings.db_pool_size
        assert ("twosigma_db_pool_checked_out", frozenset()) in samples(text)
        assert ("twosigma_db_pool_overflow", frozenset()) in samples(text)


class TestLLMMetrics:
    async def test_a_tutor_reply_counts_tokens_and_latency_by_provider_and_model(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, anthropic: FakeAnthropic
    ) -> None:
        lesson = await make_lesson(db)
        chat = await make_chat(db, lesson.student, content_item_id=lesson.item.id)
        anthropic.script(input_tokens=42, output_tokens=7)
        before = await scrape(client, settings)
        response = await client.post(
            f"{API}/chat/sessions/{chat.id}/messages",
            json={"content": "Explain"},
            headers=auth_headers(settings, lesson.student),
        )
        assert response.status_code == 200, response.text
        model = response.json()["assistant_message"]["meta"]["model"]
        after = await scrape(client, settings)

        def delta(name: str, **labels: str) -> float:
            return value(after, name, **labels) - value(before, name, **labels)

        assert delta("twosigma_llm_tokens_total", provider="anthropic", model=model, direction="input") == 42
        assert delta("twosigma_llm_tokens_total", provider="anthropic", model=model, direction="output") == 7
        assert delta("twosigma_llm_replies_total", provider="anthropic", model=model, outcome="complete") == 1
        assert delta("twosigma_llm_latency_seconds_count", provider="anthropic", model=model) == 1
        assert delta("twosigma_llm_time_to_first_token_seconds_count", provider="anthropic", model=model) == 1


@pytest.fixture
def build(db_engine: AsyncEngine, test_sessionmaker: async_sessionmaker[AsyncSession]) -> object:
    def make(settings: Settings) -> httpx.AsyncClient:
        app = create_app(settings=settings, database=Database(engine=db_engine, sessionmaker=test_sessionmaker))
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")

    return make


class TestWhoMayRead:
    @pytest.fixture
    async def guarded(self, settings: Settings, build: object) -> AsyncIterator[httpx.AsyncClient]:
        assert callable(build)
        async with build(settings.model_copy(update={"metrics_token": SecretStr("scrape-me-0123")})) as client:
            yield client

    @pytest.fixture
    def unconfigured(self, settings: Settings) -> Settings:
        """An install whose operator set neither TWOSIGMA_METRICS_TOKEN nor TWOSIGMA_METRICS_PUBLIC."""
        return settings.model_copy(update={"metrics_token": None, "metrics_public": False})

    async def test_disabled_metrics_are_404(self, settings: Settings, build: object) -> None:
        assert callable(build)
        async with build(settings.model_copy(update={"metrics_enabled": False})) as client:
            response = await client.get("/metrics")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"

    async def test_with_neither_token_nor_opening_a_scrape_is_401_saying_how_to_configure_it(
        self, unconfigured: Settings, build: object
    ) -> None:
        assert callable(build)
        async with build(unconfigured) as client:
            response = await client.get("/metrics")
        assert response.status_code == 401
        error = response.json()["error"]
        assert error["code"] == "metrics_not_configured"
        assert "TWOSIGMA_METRICS_TOKEN" in error["message"]
        assert "TWOSIGMA_METRICS_PUBLIC=true" in error["message"]
        assert error["details"] == {"settings": ["TWOSIGMA_METRICS_TOKEN", "TWOSIGMA_METRICS_PUBLIC"]}
        assert response.headers["www-authenticate"] == "Bearer"
        assert "twosigma_http_requests_total" not in response.text

    async def test_a_signed_in_administrator_is_no_scraper_either(
        self, unconfigured: Settings, build: object, db: AsyncSession
    ) -> None:
        admin = await make_member(db, await make_university(db), UserRole.PLATFORM_ADMIN)
        assert callable(build)
        async with build(unconfigured) as client:
            response = await client.get("/metrics", headers=auth_headers(unconfigured, admin))
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "metrics_not_configured"

    async def test_only_metrics_public_opens_them_to_anyone_and_a_configured_token_still_wins(
        self, settings: Settings, build: object, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        assert callable(build)
        bare = {"_env_file": None, "environment": Environment.TEST, "secret_key": settings.secret_key}
        async with build(Settings(**bare)) as client:  # type: ignore[arg-type]
            assert (await client.get("/metrics")).status_code == 401
        monkeypatch.setenv("TWOSIGMA_METRICS_PUBLIC", "true")
        async with build(Settings(**bare)) as client:  # type: ignore[arg-type]
            opened = await client.get("/metrics")
        assert opened.status_code == 200
        assert "twosigma_http_requests_total" in opened.text
        monkeypatch.setenv("TWOSIGMA_METRICS_TOKEN", "scrape-me-0123")
        async with build(Settings(**bare)) as client:  # type: ignore[arg-type]
            assert (await client.get("/metrics")).status_code == 401
            allowed = await client.get("/metrics", headers={"Authorization": "Bearer scrape-me-0123"})
        assert allowed.status_code == 200

    async def test_an_empty_token_variable_does_not_become_a_token_an_empty_bearer_matches(
        self, settings: Settings, build: object, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("TWOSIGMA_METRICS_TOKEN", "")
        blank = Settings(_env_file=None, environment=Environment.TEST, secret_key=settings.secret_key)  # type: ignore[call-arg]
        assert callable(build)
        async with build(blank) as client:
            response = await client.get("/metrics", headers={"Authorization": "Bearer "})
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "metrics_not_configured"

    async def test_with_a_token_configured_a_scrape_without_it_is_401(self, guarded: httpx.AsyncClient) -> None:
        response = await guarded.get("/metrics")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "metrics_token_required"
        wrong = await guarded.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401

    async def test_with_the_token_the_scrape_succeeds(self, guarded: httpx.AsyncClient) -> None:
        response = await guarded.get("/metrics", headers={"Authorization": "Bearer scrape-me-0123"})
        assert response.status_code == 200
        assert "twosigma_http_requests_total" in response.text

    async def test_metrics_are_not_in_the_openapi_document(self, client: httpx.AsyncClient) -> None:
        assert "/metrics" not in (await client.get("/openapi.json")).json()["paths"]
