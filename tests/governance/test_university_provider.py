"""A university's own provider: its admins set it (secrets encrypted and masked), and its students' turns — only
theirs — go to that provider with the university's key."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fakes import FakeAnthropic, FakeOpenAI
from tests.fakes.llm import Mode
from tests.fixtures.factories import auth_headers
from tests.fixtures.tutor import API, Lesson, make_chat, make_lesson
from tests.governance.conftest import ANTHROPIC_KEY
from twosigma.config import Settings
from twosigma.governance.models import UniversitySetting
from twosigma.kit.errors import Invalid

UNIVERSITY_KEY = "sk-university-a-0123456789abcd"
UNIVERSITY_ANTHROPIC_KEY = "sk-ant-university-a-0123456789"
UNIVERSITY_OPENAI_KEY = "sk-openai-university-a-0123456789"
PLATFORM_OPENAI_KEY = "sk-openai-platform-0123456789"


@pytest.fixture
async def lesson_a(db: AsyncSession) -> Lesson:
    return await make_lesson(db)


@pytest.fixture
async def lesson_b(db: AsyncSession) -> Lesson:
    return await make_lesson(db)


async def configure(client: httpx.AsyncClient, settings: Settings, lesson: Lesson, fake: FakeOpenAI) -> None:
    url = f"{API}/universities/{lesson.classroom.campus.university.id}/settings"
    headers = auth_headers(settings, lesson.classroom.campus.admin)
    for key, value in (
        ("llm.provider", "openai"),
        ("llm.openai_api_key", UNIVERSITY_KEY),
        ("llm.openai_base_url", f"{fake.url}/v1"),
    ):
        r = await client.put(f"{url}/{key}", json={"value": value}, headers=headers)
        assert r.status_code == 200, r.text


async def send(client: httpx.AsyncClient, settings: Settings, db: AsyncSession, lesson: Lesson) -> httpx.Response:
    chat = await make_chat(db, lesson.student, content_item_id=lesson.item.id)
    return await client.post(
        f"{API}/chat/sessions/{chat.id}/messages",
        json={"content": "Hi"},
        headers=auth_headers(settings, lesson.student),
    )


class TestTheUniversitysProvider:
    async def test_the_university_key_is_used_for_its_students_only(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        lesson_a: Lesson,
        lesson_b: Lesson,
        anthropic: FakeAnthropic,
        fake_openai: FakeOpenAI,
    ) -> None:
        await configure(client, settings, lesson_a, fake_openai)
        a = await send(client, settings, db, lesson_a)
        assert a.status_code == 200, a.text
        assert a.json()["assistant_message"]["meta"]["provider"] == "openai"
        [call] = fake_openai.requests
        assert {name.lower(): value for name, value in call.headers.items()}[
            "authorization"
        ] == f"Bearer {UNIVERSITY_KEY}"
        assert anthropic.requests == []
        b = await send(client, settings, db, lesson_b)
        assert b.json()["assistant_message"]["meta"]["provider"] == "anthropic"
        sent = {name.lower(): value for name, value in anthropic.last_request.headers.items()}
        # The platform's key, in whichever header this SDK version sends it.
        assert ANTHROPIC_KEY in (sent.get("x-api-key"), sent.get("authorization", "").removeprefix("Bearer "))
        assert len(fake_openai.requests) == 1

    async def test_the_platforms_key_for_the_same_provider_is_never_lent(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        lesson_a: Lesson,
        anthropic: FakeAnthropic,
        fake_openai: FakeOpenAI,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setenv("TWOSIGMA_LLM_OPENAI_API_KEY", "sk-platform-openai-0123456789")
        url = f"{API}/universities/{lesson_a.classroom.campus.university.id}/settings/llm.provider"
        headers = auth_headers(settings, lesson_a.classroom.campus.admin)
        assert (await client.put(url, json={"value": "openai"}, headers=headers)).status_code == 200
        r = await send(client, settings, db, lesson_a)
        assert r.status_code == 503
        assert r.json()["error"]["code"] == "llm_not_configured"
        assert fake_openai.requests == []

    async def test_secrets_are_encrypted_and_masked(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        lesson_a: Lesson,
        fake_openai: FakeOpenAI,
    ) -> None:
        await configure(client, settings, lesson_a, fake_openai)
        university_id = lesson_a.classroom.campus.university.id
        r = await client.get(
            f"{API}/universities/{university_id}/settings",
            headers=auth_headers(settings, lesson_a.classroom.campus.admin),
        )
        items = {item["key"]: item for item in r.json()["items"]}
        assert items["llm.openai_api_key"]["value"] == "••••abcd"
        assert items["llm.openai_api_key"]["is_encrypted"] is True
        assert items["llm.provider"]["value"] == "openai"
        stored = await db.scalar(
            select(UniversitySetting.setting_value).where(
                UniversitySetting.university_id == university_id, UniversitySetting.setting_key == "llm.openai_api_key"
            )
        )
        assert stored is not None
        assert UNIVERSITY_KEY not in stored

    @pytest.mark.parametrize(
        ("key", "value"),
        [("llm.provider", "mystery"), ("llm.prices", {}), ("tutor.enabled", True), ("llm.temperature", 9)],
    )
    async def test_a_key_or_value_the_platform_would_refuse_is_422(
        self, client: httpx.AsyncClient, settings: Settings, lesson_a: Lesson, key: str, value: object
    ) -> None:
        url = f"{API}/universities/{lesson_a.classroom.campus.university.id}/settings/{key}"
        r = await client.put(
            url, json={"value": value}, headers=auth_headers(settings, lesson_a.classroom.campus.admin)
        )
        assert r.status_code == 422

    async def test_only_its_admins(self, client: httpx.AsyncClient, settings: Settings, lesson_a: Lesson) -> None:
        campus = lesson_a.classroom.campus
        url = f"{API}/universities/{campus.university.id}/settings"
        assert (await client.get(url, headers=auth_headers(settings, campus.instructor))).status_code == 403
        assert (await client.get(url, headers=auth_headers(settings, campus.outsider_admin))).status_code == 404

    async def test_deleting_the_provider_returns_the_students_to_the_platforms(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        lesson_a: Lesson,
        anthropic: FakeAnthropic,
        fake_openai: FakeOpenAI,
    ) -> None:
        await configure(client, settings, lesson_a, fake_openai)
        url = f"{API}/universities/{lesson_a.classroom.campus.university.id}/settings/llm.provider"
        headers = auth_headers(settings, lesson_a.classroom.campus.admin)
        assert (await client.delete(url, headers=headers)).status_code == 204
        assert (await client.delete(url, headers=headers)).status_code == 404
        r = await send(client, settings, db, lesson_a)
        assert r.json()["assistant_message"]["meta"]["provider"] == "anthropic"


class TestTheFallbackOfAUniversityWithItsOwnProvider:
    """The university's primary (its own Anthropic key) fails with a 503 before the first token. The platform has an
    OpenAI fallback with the platform's key: it must not see that university's students' messages. The university's
    own `llm.fallback_provider`, with its own OpenAI key, is honoured."""

    @pytest.fixture
    def platform_fallback(self, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> FakeOpenAI:
        monkeypatch.setenv("TWOSIGMA_LLM_FALLBACK_PROVIDER", "openai")
        monkeypatch.setenv("TWOSIGMA_LLM_OPENAI_API_KEY", PLATFORM_OPENAI_KEY)
        monkeypatch.setenv("TWOSIGMA_LLM_OPENAI_BASE_URL", f"{fake_openai.url}/v1")
        return fake_openai

    async def _own_primary(
        self, client: httpx.AsyncClient, settings: Settings, lesson: Lesson, anthropic: FakeAnthropic, **more: str
    ) -> None:
        url = f"{API}/universities/{lesson.classroom.campus.university.id}/settings"
        headers = auth_headers(settings, lesson.classroom.campus.admin)
        values = {
            "llm.provider": "anthropic",
            "llm.anthropic_api_key": UNIVERSITY_ANTHROPIC_KEY,
            "llm.anthropic_base_url": anthropic.url,
            **more,
        }
        for key, value in values.items():
            r = await client.put(f"{url}/{key}", json={"value": value}, headers=headers)
            assert r.status_code == 200, r.text

    async def test_without_its_own_fallback_the_platforms_is_not_used(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        lesson_a: Lesson,
        anthropic: FakeAnthropic,
        platform_fallback: FakeOpenAI,
    ) -> None:
        await self._own_primary(client, settings, lesson_a, anthropic)
        anthropic.script(mode=Mode.ERROR, status=503)
        r = await send(client, settings, db, lesson_a)
        assert r.status_code == 502
        sent = {name.lower(): value for name, value in anthropic.last_request.headers.items()}
        assert UNIVERSITY_ANTHROPIC_KEY in (
            sent.get("x-api-key"),
            sent.get("authorization", "").removeprefix("Bearer "),
        )
        assert platform_fallback.requests == []  # the platform's fallback never saw the message

    async def test_its_own_fallback_takes_the_turn_with_its_own_key(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        lesson_a: Lesson,
        anthropic: FakeAnthropic,
        platform_fallback: FakeOpenAI,
    ) -> None:
        await self._own_primary(
            client,
            settings,
            lesson_a,
            anthropic,
            **{
                "llm.fallback_provider": "openai",
                "llm.fallback_model": "gpt-university-fallback",
                "llm.openai_api_key": UNIVERSITY_OPENAI_KEY,
                "llm.openai_base_url": f"{platform_fallback.url}/v1",
            },
        )
        anthropic.script(mode=Mode.ERROR, status=503)
        r = await send(client, settings, db, lesson_a)
        assert r.status_code == 200, r.text
        meta = r.json()["assistant_message"]["meta"]
        assert meta["provider"] == "openai"
        assert meta["fallback"]["from"] == "anthropic"
        [call] = platform_fallback.requests
        assert {name.lower(): value for name, value in call.headers.items()}[
            "authorization"
        ] == f"Bearer {UNIVERSITY_OPENAI_KEY}"
        assert call.json()["model"] == "gpt-university-fallback"

    async def test_a_university_without_its_own_provider_keeps_the_platforms_fallback(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        lesson_a: Lesson,
        anthropic: FakeAnthropic,
        platform_fallback: FakeOpenAI,
    ) -> None:
        anthropic.script(mode=Mode.ERROR, status=503)
        r = await send(client, settings, db, lesson_a)
        assert r.status_code == 200, r.text
        [call] = platform_fallback.requests
        assert {name.lower(): value for name, value in call.headers.items()}[
            "authorization"
        ] == f"Bearer {PLATFORM_OPENAI_KEY}"


class _Capture(BaseHTTPRequestHandler):
    """A host a university admin controls: records the headers of every request that reaches it."""

    seen: ClassVar[list[dict[str, str]]] = []

    def do_POST(self) -> None:
        type(self).seen.append({k.lower(): v for k, v in self.headers.items()})
        self.send_response(400)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"message": "no"}')

    def log_message(self, format: str, *args: object) -> None:
        pass


async def test_a_university_bedrock_without_its_own_keys_never_signs_with_the_platforms_aws_credentials(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Security review: with no keys of its own, the AWS default chain would sign the university's calls with the
    credentials of the machine the platform runs on, and send them to a base URL the university chose."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAPLATFORMOWNED000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "platform-secret-never-leaves")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "PLATFORM-SESSION-TOKEN")
    _Capture.seen = []
    server = HTTPServer(("127.0.0.1", 0), _Capture)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        lesson = await make_lesson(db)
        url = f"{API}/universities/{lesson.classroom.campus.university.id}/settings"
        headers = auth_headers(settings, lesson.classroom.campus.admin)
        for key, value in (
            ("llm.provider", "bedrock"),
            ("llm.bedrock_region", "us-east-1"),
            ("llm.bedrock_base_url", f"http://127.0.0.1:{server.server_port}"),
        ):
            r = await client.put(f"{url}/{key}", json={"value": value}, headers=headers)
            assert r.status_code == 200, r.text
        chat = await make_chat(db, lesson.student, content_item_id=lesson.item.id)
        r = await client.post(
            f"{API}/chat/sessions/{chat.id}/messages",
            json={"content": "Hi"},
            headers=auth_headers(settings, lesson.student),
        )
    finally:
        server.shutdown()
        server.server_close()
    assert _Capture.seen == []
    assert "llm_not_configured" in r.text
    assert "own llm.bedrock_access_key_id" in r.text


async def test_in_production_a_university_provider_url_must_be_public(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """The server calls it with students' messages: a university admin may not point it at the platform's network."""
    from twosigma.config import Environment

    lesson = await make_lesson(db)
    url = f"{API}/universities/{lesson.classroom.campus.university.id}/settings/llm.openai_base_url"
    headers = auth_headers(settings, lesson.classroom.campus.admin)
    production = settings.model_copy(update={"environment": Environment.PRODUCTION})
    from twosigma.governance.schemas import UniversitySettingWrite
    from twosigma.governance.services import university_settings
    from twosigma.tenancy.models import University

    university = await db.get(University, lesson.classroom.campus.university.id)
    assert university is not None
    for internal in ("http://127.0.0.1:8080/v1", "https://127.0.0.1/v1", "https://169.254.169.254/latest"):
        with pytest.raises(Invalid) as refused:
            await university_settings.put_setting(
                db, production, university, "llm.openai_base_url", UniversitySettingWrite(value=internal)
            )
        assert refused.value.error_code == "url_not_public", internal
    # Outside production (development, these tests) a local server is fine.
    r = await client.put(url, json={"value": "http://127.0.0.1:8080/v1"}, headers=headers)
    assert r.status_code == 200, r.text
