"""Regressions of hostile input: each request below was a 500 before its fix (found by the schemathesis run, or
reported in issue 17 as the seven inputs that answered 500 with a traceback)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.factories import auth_headers, make_member, make_university
from tests.fixtures.prompts import basic_auth, make_prompt
from tests.fixtures.tutor import Lesson, make_chat, make_lesson
from twosigma.config import Settings
from twosigma.enums import UserRole
from twosigma.kit.params import INT4_MAX

API = "/api/v1"

# Integers beyond PostgreSQL's int4 passed the schemas (plain `int`) and asyncpg refused them: now 422.
OUT_OF_RANGE: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", f"{API}/courses?department_id=-550730816740698", None),
    ("POST", f"{API}/courses", {"title": "T", "code": "T", "university_id": -6340191297, "primary_subject_id": 1}),
    ("PATCH", f"{API}/offerings/40277487910095", {"capacity": 3}),
    ("GET", f"{API}/offerings/59416310456601091809292914262016/enrollments", None),
    ("POST", f"{API}/courses/20353492097331408/modules", {"title": "M"}),
    ("PUT", f"{API}/offerings/50026044216536768/progress/content-items/29", {"progress_percent": 83}),
]


class TestValuesTheDatabaseCannotStore:
    @pytest.mark.parametrize(("method", "url", "body"), OUT_OF_RANGE, ids=[f"{m} {u}" for m, u, _ in OUT_OF_RANGE])
    async def test_an_integer_beyond_int4_is_a_422_in_the_error_shape(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        method: str,
        url: str,
        body: dict[str, Any] | None,
    ) -> None:
        admin = await make_member(db, await make_university(db), UserRole.PLATFORM_ADMIN)
        response = await client.request(method, url, json=body, headers=auth_headers(settings, admin))
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == "validation_error"

    async def test_the_openapi_document_gives_every_operation_the_error_shape_as_its_default(
        self, client: httpx.AsyncClient
    ) -> None:
        document = (await client.get("/openapi.json")).json()
        operations = [op for path in document["paths"].values() for op in path.values()]
        assert operations
        for operation in operations:
            assert operation["responses"]["default"]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ErrorResponse"
            }
        assert "HTTPValidationError" not in document["components"]["schemas"]


def _documented_properties(document: dict[str, Any], path: str, method: str, status: str) -> set[str]:
    schema = document["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]
    component = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    if "items" in component["properties"]:  # a page: the properties of its items
        ref = component["properties"]["items"]["items"]["$ref"]
        component = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return set(component["properties"])


class TestV1PromptsDocumentWhatTheySend:
    """/api/v1/prompts answers snake_case; its OpenAPI documented the camelCase of the Langfuse API."""

    async def test_create_get_and_list_answer_exactly_the_documented_fields(
        self, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        admin = auth_headers(settings, await make_member(db, await make_university(db), UserRole.PLATFORM_ADMIN))
        document = (await client.get("/openapi.json")).json()
        body = {"name": "fuzz/regression", "prompt": "Hi", "commit_message": "first", "labels": ["production"]}
        created = await client.post(f"{API}/prompts", json=body, headers=admin)
        assert created.status_code == 201, created.text
        fetched = await client.get(f"{API}/prompts/fuzz/regression", headers=admin)
        listed = await client.get(f"{API}/prompts", headers=admin)
        documented = _documented_properties(document, f"{API}/prompts", "post", "201")
        assert set(created.json()) <= documented
        assert {"commit_message", "created_at", "created_by"} <= documented
        assert set(fetched.json()) <= _documented_properties(document, f"{API}/prompts/{{name}}", "get", "200")
        item = listed.json()["items"][0]
        assert set(item) == _documented_properties(document, f"{API}/prompts", "get", "200")


# --- Issue 17: seven inputs that answered 500 with a traceback ------------------------------------------------------


@dataclass
class Scene:
    """A published lesson (its ACTIVE student, a content item), a platform admin and a prompt with `production`."""

    lesson: Lesson
    admin: dict[str, str]
    student: dict[str, str]
    settings: Settings

    @property
    def offering_id(self) -> int:
        return self.lesson.classroom.campus.offering.id


@pytest.fixture
async def scene(db: AsyncSession, settings: Settings) -> Scene:
    lesson = await make_lesson(db)
    admin = await make_member(db, await make_university(db), UserRole.PLATFORM_ADMIN)
    await make_prompt(db, "issue17/greeting", "Hello {{name}}", labels=["production"])
    return Scene(lesson, auth_headers(settings, admin), auth_headers(settings, lesson.student), settings)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def signed(settings: Settings, payload_json: str, header: bytes = b'{"alg":"HS256","typ":"JWT"}') -> str:
    """A token signed with the server's own secret around a payload written as raw JSON text (so it may hold
    numbers no encoder writes, such as 1e400)."""
    signing_input = f"{b64(header)}.{b64(payload_json.encode())}"
    key = settings.secret_key.get_secret_value().encode()
    return f"{signing_input}.{b64(hmac.new(key, signing_input.encode(), hashlib.sha256).digest())}"


def token_with(settings: Settings, scene: Scene, token_type: str, **claims: Any) -> str:
    now = int(time.time())
    student = scene.lesson.student.id
    payload = {"sub": str(student), "iat": now, "exp": now + 600, "jti": "j" * 32, "type": token_type, "fam": "f" * 32}
    return jwt.encode(payload | claims, settings.secret_key.get_secret_value(), algorithm="HS256")


Send = Callable[[httpx.AsyncClient, Scene], Awaitable[httpx.Response]]
# A lone surrogate, as a JSON client spells it; the text around it must never come back in the answer.
SURROGATE = '"hidden-\\ud800-value"'


def _json(client: httpx.AsyncClient, method: str, url: str, headers: dict[str, str], body: str) -> Any:
    return client.request(method, url, content=body, headers=headers | {"Content-Type": "application/json"})


SEVEN: dict[str, Send] = {
    "surrogate in a new content item's data_json": lambda c, s: _json(
        c,
        "POST",
        f"{API}/modules/{s.lesson.item.module_id}/content-items",
        s.admin,
        f'{{"content_type_id": {s.lesson.item.content_type_id}, "title": "T", "data_json": {{"a": {SURROGATE}}}}}',
    ),
    "surrogate in a content item's data_json (update)": lambda c, s: _json(
        c, "PATCH", f"{API}/content-items/{s.lesson.item.id}", s.admin, f'{{"data_json": {{"a": {SURROGATE}}}}}'
    ),
    "surrogate in a prompt's config": lambda c, s: _json(
        c,
        "POST",
        f"{API}/prompts",
        s.admin,
        f'{{"name": "issue17/new", "prompt": "Hi", "config": {{"a": {SURROGATE}}}}}',
    ),
    "surrogate in compile variables": lambda c, s: _json(
        c, "POST", f"{API}/prompts/issue17/greeting/compile", s.admin, f'{{"variables": {{"name": {SURROGATE}}}}}'
    ),
    "content item id beyond int4 in the progress path": lambda c, s: c.put(
        f"{API}/offerings/{s.offering_id}/progress/content-items/99999999999",
        json={"progress_percent": 5},
        headers=s.student,
    ),
    "bearer access token with exp 1e20": lambda c, s: c.get(
        f"{API}/users/me", headers={"Authorization": f"Bearer {token_with(s.settings, s, 'access', exp=1e20)}"}
    ),
    "refresh token header with exp 1e20": lambda c, s: c.post(
        f"{API}/auth/refresh", headers={"Authorization": f"Bearer {token_with(s.settings, s, 'refresh', exp=1e20)}"}
    ),
}
SEVEN_STATUS = {name: 401 if "token" in name else 422 for name in SEVEN}


class TestTheSevenInputsOfIssue17:
    @pytest.mark.parametrize("name", list(SEVEN))
    async def test_the_input_is_a_4xx_in_the_error_shape_never_a_500(
        self, client: httpx.AsyncClient, scene: Scene, name: str
    ) -> None:
        response = await SEVEN[name](client, scene)
        assert response.status_code == SEVEN_STATUS[name], response.text
        error = response.json()["error"]
        assert error["code"] == ("validation_error" if SEVEN_STATUS[name] == 422 else "invalid_token")
        assert "hidden-" not in response.text


class TestJsonValuesNoColumnCanStore:
    """Refused at the edge (kit/json_values.py) for every JSON body, with where they are and never what they are."""

    async def test_a_lone_surrogate_is_located_down_to_its_key(self, client: httpx.AsyncClient, scene: Scene) -> None:
        response = await SEVEN["surrogate in a new content item's data_json"](client, scene)
        (detail,) = response.json()["error"]["details"]
        assert detail["loc"] == ["body", "data_json", "a"]
        assert detail["type"] == "string_unpaired_surrogate"

    @pytest.mark.parametrize(
        ("body", "loc", "kind"),
        [
            ('{"variables": {"name": "x\\u0000y"}}', ["body", "variables", "name"], "string_nul"),
            ('{"variables": {"\\u0000": "x"}}', ["body", "variables", "[key]"], "string_nul"),
            ('{"variables": {"\\udfff": "x"}}', ["body", "variables", "[key]"], "string_unpaired_surrogate"),
            (
                '{"variables": {"list": ["ok", "\\ud83d"]}}',
                ["body", "variables", "list", "1"],
                "string_unpaired_surrogate",
            ),
            ('{"variables": {"n": NaN}}', ["body", "variables", "n"], "number_not_finite"),
            ('{"variables": {"n": -Infinity}}', ["body", "variables", "n"], "number_not_finite"),
            ('{"variables": {"n": 1e400}}', ["body", "variables", "n"], "number_not_finite"),
        ],
        ids=[
            "nul in a value",
            "nul in a key",
            "surrogate in a key",
            "surrogate in a list",
            "NaN",
            "-Infinity",
            "1e400",
        ],
    )
    async def test_each_kind_is_a_422_naming_where(
        self, client: httpx.AsyncClient, scene: Scene, body: str, loc: list[str], kind: str
    ) -> None:
        response = await _json(client, "POST", f"{API}/prompts/issue17/greeting/compile", scene.admin, body)
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == "validation_error"
        (detail,) = response.json()["error"]["details"]
        assert (detail["loc"], detail["type"]) == (loc, kind)
        assert detail["msg"]

    async def test_nul_in_a_password_is_refused_before_anything_reads_it(self, client: httpx.AsyncClient) -> None:
        body = '{"email": "a@example.edu", "password": "s3cret-\\u0000-part"}'
        response = await _json(client, "POST", f"{API}/auth/login", {}, body)
        assert response.status_code == 422
        assert response.json()["error"]["details"][0]["loc"] == ["body", "password"]
        assert "s3cret" not in response.text

    async def test_the_langfuse_api_is_guarded_too(self, client: httpx.AsyncClient, scene: Scene) -> None:
        body = f'{{"name": "issue17/lf", "prompt": "Hi", "config": {{"a": {SURROGATE}}}}}'
        response = await _json(client, "POST", "/api/public/v2/prompts", basic_auth("pk", "sk"), body)
        assert response.status_code == 422
        assert response.json()["error"]["details"][0]["loc"] == ["body", "config", "a"]

    async def test_surrogate_pairs_escaped_backslashes_and_big_finite_numbers_are_stored(
        self, client: httpx.AsyncClient, scene: Scene
    ) -> None:
        body = (
            f'{{"content_type_id": {scene.lesson.item.content_type_id}, "title": "Pairs \\ud83d\\ude00", '
            '"data_json": {"emoji": "\\ud83d\\ude00", "text": "\\\\u0000 is how JSON spells NUL", "big": 1e300}}'
        )
        response = await _json(
            client, "POST", f"{API}/modules/{scene.lesson.item.module_id}/content-items", scene.admin, body
        )
        assert response.status_code == 201, response.text
        assert response.json()["title"] == "Pairs \U0001f600"
        assert response.json()["data_json"] == {
            "emoji": "\U0001f600",
            "text": "\\u0000 is how JSON spells NUL",
            "big": 1e300,
        }


class TestIdsBeyondTheirColumn:
    @pytest.mark.parametrize("item_id", [0, -1, INT4_MAX + 1, 99999999999, 2**63])
    async def test_a_progress_write_outside_int4_is_a_422_on_the_path(
        self, client: httpx.AsyncClient, scene: Scene, item_id: int
    ) -> None:
        url = f"{API}/offerings/{scene.offering_id}/progress/content-items/{item_id}"
        response = await client.put(url, json={"progress_percent": 5}, headers=scene.student)
        assert response.status_code == 422, response.text
        assert response.json()["error"]["details"][0]["loc"] == ["path", "content_item_id"]

    async def test_the_largest_int4_id_is_a_plain_404(self, client: httpx.AsyncClient, scene: Scene) -> None:
        url = f"{API}/offerings/{scene.offering_id}/progress/content-items/{INT4_MAX}"
        response = await client.put(url, json={"progress_percent": 5}, headers=scene.student)
        assert response.status_code == 404, response.text

    async def test_every_integer_path_and_query_parameter_of_the_document_is_bounded(
        self, client: httpx.AsyncClient
    ) -> None:
        """A route added later with a plain `int` id fails here: take it from kit/params.py."""
        document = (await client.get("/openapi.json")).json()
        unbounded, seen = [], 0
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                for parameter in operation.get("parameters", []):
                    if parameter["in"] not in ("path", "query"):
                        continue
                    schema = parameter["schema"]
                    for variant in schema.get("anyOf", [schema]):
                        if variant.get("type") != "integer":
                            continue
                        seen += 1
                        if "minimum" not in variant or "maximum" not in variant:
                            unbounded.append(f"{method.upper()} {path} {parameter['in']} {parameter['name']}")
        assert seen >= 100
        assert unbounded == []


TOKEN_PAYLOADS = {
    "exp 1e308": '{{"sub": "{sub}", "iat": 1700000000, "exp": 1e308, "jti": "j", "type": "{type}", "fam": "f"}}',
    "sub beyond int4": '{{"sub": "99999999999", "iat": 1700000000, "exp": 4102444800, "jti": "j", "type": "{type}"}}',
    "fam a NUL": '{{"sub": "{sub}", "iat": 1700000000, "exp": 4102444800, "jti": "j", "type": "{type}", '
    '"fam": "\\u0000"'
    "}}",
    # These three already answered 401; they stay in the matrix so every decoder keeps refusing them.
    "exp 1e400": '{{"sub": "{sub}", "iat": 1700000000, "exp": 1e400, "jti": "j", "type": "{type}", "fam": "f"}}',
    "exp NaN": '{{"sub": "{sub}", "iat": 1700000000, "exp": NaN, "jti": "j", "type": "{type}", "fam": "f"}}',
    "jti an object": '{{"sub": "{sub}", "iat": 1700000000, "exp": 4102444800, "jti": {{"a": 1}}, "type": "{type}"}}',
}
DECODERS = ["access bearer", "refresh header", "sign-out body"]
# The (payload, decoder) pairs that were a 500 before auth/tokens.py checked every claim.
WERE_500 = [("exp 1e308", where) for where in DECODERS] + [("sub beyond int4", DECODERS[0]), ("fam a NUL", DECODERS[0])]


class TestTokensThatFailToDecode:
    """Whatever a token holds, it is a 401 (auth/tokens.py), for each decoder: the bearer access token, the refresh
    token in the header and in the sign-out body."""

    @pytest.mark.parametrize(("payload", "where"), WERE_500, ids=[f"{p} as {w}" for p, w in WERE_500])
    async def test_a_signed_token_with_claims_no_datetime_or_column_can_hold_is_a_401(
        self, client: httpx.AsyncClient, scene: Scene, payload: str, where: str
    ) -> None:
        response = await _present(client, _signed_claims(scene, payload, where), where)
        assert response.status_code == 401, response.text
        assert response.json()["error"]["code"] == "invalid_token"

    async def test_a_refresh_token_with_exp_1e20_in_the_sign_out_body_is_a_401(
        self, client: httpx.AsyncClient, scene: Scene
    ) -> None:
        token = token_with(scene.settings, scene, "refresh", exp=1e20)
        response = await client.post(f"{API}/auth/logout", json={"refresh_token": token})
        assert response.status_code == 401, response.text


class TestEveryDecoderRefusesOddTokens:
    """The whole matrix, including the inputs that were already refused, so that no decoder regresses."""

    @pytest.mark.parametrize("where", DECODERS)
    @pytest.mark.parametrize("payload", list(TOKEN_PAYLOADS))
    async def test_the_token_is_a_401(self, client: httpx.AsyncClient, scene: Scene, payload: str, where: str) -> None:
        response = await _present(client, _signed_claims(scene, payload, where), where)
        assert response.status_code == 401, response.text

    # (The sign-out body takes at most 4,096 characters: such a token is a 422 there.)
    @pytest.mark.parametrize("where", DECODERS[:2])
    async def test_a_header_nested_ten_thousand_deep_is_a_401(
        self, client: httpx.AsyncClient, scene: Scene, where: str
    ) -> None:
        token = signed(scene.settings, "{}", header=b"[" * 10_000 + b"]" * 10_000)
        response = await _present(client, token, where)
        assert response.status_code == 401, response.text


def _signed_claims(scene: Scene, payload: str, where: str) -> str:
    token_type = "access" if where == DECODERS[0] else "refresh"
    return signed(scene.settings, TOKEN_PAYLOADS[payload].format(sub=scene.lesson.student.id, type=token_type))


async def _present(client: httpx.AsyncClient, token: str, where: str) -> httpx.Response:
    if where == "access bearer":
        return await client.get(f"{API}/users/me", headers={"Authorization": f"Bearer {token}"})
    if where == "refresh header":
        return await client.post(f"{API}/auth/refresh", headers={"Authorization": f"Bearer {token}"})
    return await client.post(f"{API}/auth/logout", json={"refresh_token": token})


class TestShareTokensAndApiKeysOfOddShape:
    @pytest.mark.parametrize("token", ["%00", "a%00b"])
    async def test_a_share_token_with_a_nul_is_the_unknown_token_404(
        self, client: httpx.AsyncClient, token: str
    ) -> None:
        response = await client.get(f"{API}/shared/chats/{token}")
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "shared_chat_not_found"

    async def test_basic_credentials_with_a_nul_in_the_public_key_are_a_401(self, client: httpx.AsyncClient) -> None:
        header = base64.b64encode(b"pk\x00lf:secret").decode()
        response = await client.get("/api/public/v2/prompts", headers={"Authorization": f"Basic {header}"})
        assert response.status_code == 401, response.text


class TestOddCredentialsStayRefused:
    """Huge and odd share tokens and Basic credentials that were already refused; a real share token still works."""

    @pytest.mark.parametrize("token", ["x" * 255, "%F0%9F%98%80", "a%20b", "a.b~c", "%ED%A0%80"])
    async def test_the_share_token_is_a_404(self, client: httpx.AsyncClient, token: str) -> None:
        response = await client.get(f"{API}/shared/chats/{token}")
        assert response.status_code == 404, response.text

    async def test_a_share_token_beyond_the_column_is_a_422(self, client: httpx.AsyncClient) -> None:
        response = await client.get(f"{API}/shared/chats/{'x' * 256}")
        assert response.status_code == 422, response.text

    async def test_a_real_share_token_still_opens_its_chat(
        self, client: httpx.AsyncClient, db: AsyncSession, scene: Scene
    ) -> None:
        chat = await make_chat(db, scene.lesson.student, share_enabled=True, share_token="A1b2_-" * 7 + "z")
        response = await client.get(f"{API}/shared/chats/{chat.share_token}")
        assert response.status_code == 200, response.text

    @pytest.mark.parametrize(
        "credentials",
        ["pk:se\x00cret", "p" * 10_000 + ":secret", "\u00e9t\u00e9:secret", ":", "no-colon"],
        ids=["nul in the secret", "a 10 kB public key", "non-ASCII public key", "empty parts", "no colon"],
    )
    async def test_the_basic_credentials_are_a_401(self, client: httpx.AsyncClient, credentials: str) -> None:
        header = base64.b64encode(credentials.encode()).decode()
        response = await client.get("/api/public/v2/prompts", headers={"Authorization": f"Basic {header}"})
        assert response.status_code == 401, response.text
