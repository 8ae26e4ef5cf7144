"""The seeded world the schemathesis suite fuzzes inside, and the one table that maps parameter names to its rows.

A `World` is one university with one of everything, owned where ownership matters (chats, notes, an enrolment,
a feature request, a refresh token) by the caller it is seeded for: the platform admin or one of the world's own
students. `SOURCES` maps a parameter's location and name to the rows it may take (first entry: the row that makes
the request go furthest), so every path parameter of every operation has real values of the caller's own
university. A path parameter with no entry fails the suite (`unmapped_path_parameters`); a query or body id
(`*_id`, `*_ids`) with none is reported with the figures. Adding a route with a new parameter is one line here.

`fill` rewrites a case's containers from those sources with a `random.Random` chosen by the caller: Hypothesis's
own (`st.randoms()`) in the fuzzing phase, so draws shrink and replay; a fixed rotation for the coverage cases,
which schemathesis builds at collection, before any world exists. Most draws are real rows, the rest are another
university's rows, ids no column can hold, or the generated value itself.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import itertools
import random
import secrets
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.content import make_content_item, make_module, root_of
from tests.fixtures.courses import make_course, make_enrollment, make_offering
from tests.fixtures.factories import DEFAULT_PASSWORD, auth_headers, grant_role, make_department, make_user
from tests.fixtures.prompts import basic_auth, make_prompt
from tests.fixtures.taxonomy import make_content_type, make_domain, make_subject
from twosigma.api_keys.scopes import Scope
from twosigma.api_keys.service import create_key
from twosigma.auth.service import issue_pair
from twosigma.config import Settings
from twosigma.enums import EnrollmentStatus, InvitationKind, MessageRole, UserRole, Visibility
from twosigma.feature_requests.models import FeatureRequest
from twosigma.governance.models import TutorFlag
from twosigma.invitations.models import Invitation
from twosigma.invitations.services.invitations import INVITATION_LIFETIME, token_hash
from twosigma.kit.params import INT4_MAX
from twosigma.lti.models import LtiPlatform
from twosigma.privacy.models import DataExport
from twosigma.privacy.service import EXPORT_LIFETIME, build_zip
from twosigma.progress.models import UserContentProgress
from twosigma.system_settings.schemas import SettingWrite
from twosigma.system_settings.service import put_setting
from twosigma.tenancy.models import Country, University
from twosigma.tutor.models import ChatMessage, ChatNote, ChatSession
from twosigma.users.models import User

ADMIN = "admin"
STUDENT = "student"

# Of every value `fill` draws: real rows of the caller's university, another university's, ids beyond any column,
# and the rest keep what schemathesis generated.
REAL, FOREIGN, OUT_OF_RANGE = 0.75, 0.10, 0.08
BEYOND = (0, -1, INT4_MAX + 1, 2**63, 10**20)
# Of the fuzzed JSON bodies, this share get text no column can store (an unpaired surrogate, NUL) in one string, key
# or value: the edge refuses it for every route (kit/json_values.py). (NaN cannot be sent: the client refuses to
# encode it; tests/reliability/test_fuzz_regressions.py sends it as text.)
HOSTILE_CASES = 0.2
HOSTILE_TEXT = ("\ud800", "\x00", "tail \udfff")


@dataclass
class World:
    n: int
    caller: User
    headers: dict[str, str]  # the caller's bearer token
    api_key_headers: dict[str, str]  # HTTP Basic with the world's API key (the Langfuse-compatible API)
    refresh_token: str  # the caller's, live
    rows: dict[str, Any] = field(default_factory=dict)

    def headers_for(self, label: str) -> dict[str, str]:
        """What the caller sends to this operation: an API key on the Langfuse API, the refresh token to refresh."""
        if " /api/public/" in label:
            return self.api_key_headers
        if label == "POST /api/v1/auth/refresh":
            return {"Authorization": f"Bearer {self.refresh_token}"}
        return self.headers


def _rows(*names: str) -> Callable[[World], list[Any]]:
    return lambda w: [w.rows[name] for name in names]


# (location, parameter name) -> the world's values for it, the most useful first. Path parameters must all be here.
SOURCES: dict[tuple[str, str], Callable[[World], list[Any]]] = {
    ("path", "university_id"): _rows("university_id"),
    ("path", "department_id"): _rows("department_id"),
    ("path", "country_id"): _rows("spare_country_id", "country_id"),
    ("path", "course_id"): _rows("course_id", "hidden_course_id"),
    ("path", "offering_id"): _rows("offering_id", "unlisted_offering_id", "invite_offering_id"),
    ("path", "enrollment_id"): _rows("enrollment_id", "student_enrollment_id"),
    ("path", "module_id"): _rows("module_id", "spare_module_id", "root_module_id"),
    ("path", "content_item_id"): _rows("content_item_id", "second_item_id", "quiz_item_id"),
    ("path", "user_id"): _rows("student_id", "instructor_id"),
    ("path", "grant_id"): _rows("instructor_grant_id", "student_grant_id"),
    ("path", "session_id"): _rows("session_id", "second_session_id"),
    ("path", "message_id"): _rows("answer_id"),
    ("path", "note_id"): _rows("note_id"),
    ("path", "flag_id"): _rows("flag_id"),
    ("path", "request_id"): _rows("feature_request_id"),
    ("path", "export_id"): _rows("export_id"),
    ("path", "token"): _rows("share_token"),
    ("path", "university_short_code"): _rows("university_short_code"),
    ("path", "name"): _rows("prompt_name"),
    ("path", "version"): lambda w: [2, 1],
    ("path", "label"): lambda w: ["staging", "production"],
    ("path", "key"): _rows("setting_key"),
    ("path", "key_id"): _rows("api_key_id"),
    ("path", "invitation_id"): _rows("invitation_id", "outsider_invitation_id"),
    ("path", "domain_id"): _rows("domain_id", "spare_domain_id"),
    ("path", "subject_id"): _rows("subject_id", "leaf_subject_id"),
    ("path", "content_type_id"): _rows("content_type_id", "spare_content_type_id"),
    ("path", "platform_id"): _rows("lti_platform_id"),
    ("query", "university_id"): _rows("university_id"),
    ("query", "department_id"): _rows("department_id"),
    ("query", "country_id"): _rows("country_id"),
    ("query", "subject_id"): _rows("subject_id"),
    ("query", "domain_id"): _rows("domain_id"),
    ("query", "parent_subject_id"): _rows("subject_id"),
    ("query", "content_item_id"): _rows("content_item_id"),
    ("query", "course_id"): _rows("course_id", "hidden_course_id"),
    ("query", "before"): _rows("last_message_id"),
    ("query", "after"): _rows("question_id"),
    ("query", "version"): lambda w: [2, 1],
    ("query", "from"): lambda w: [1],
    ("query", "to"): lambda w: [2],
    ("query", "name"): _rows("prompt_name"),
    ("query", "label"): lambda w: ["production"],
    ("body", "university_id"): _rows("university_id"),
    ("body", "department_id"): _rows("department_id"),
    ("body", "country_id"): _rows("country_id"),
    ("body", "primary_subject_id"): _rows("subject_id"),
    ("body", "subject_ids"): _rows("subject_id", "leaf_subject_id"),
    ("body", "subject_preferences"): _rows("subject_id", "leaf_subject_id"),
    ("body", "course_ids"): _rows("hidden_course_id"),
    ("body", "domain_id"): _rows("domain_id"),
    ("body", "parent_subject_id"): _rows("subject_id"),
    ("body", "content_type_id"): _rows("content_type_id"),
    ("body", "module_id"): _rows("spare_module_id", "module_id"),
    ("body", "parent_module_id"): _rows("root_module_id", "spare_module_id"),
    ("body", "content_item_id"): _rows("content_item_id"),
    ("body", "message_id"): _rows("answer_id"),
    ("body", "user_id"): _rows("instructor_id", "student_id"),
    ("body", "email"): _rows("student_email"),
    ("body", "username"): _rows("student_email"),
    ("body", "password"): lambda w: [DEFAULT_PASSWORD],
    ("body", "current_password"): lambda w: [DEFAULT_PASSWORD],
    ("body", "refresh_token"): lambda w: [w.refresh_token],
    ("body", "invite_code"): _rows("invite_code"),
    ("body", "prompt_name"): _rows("prompt_name"),
    ("body", "platform_id"): _rows("lti_platform_id"),
}


# Where one operation needs other rows than the table gives: sign-up needs an email nobody has, a country a code
# nobody uses, a password change a new password the policy accepts, a prompt a valid name.
_FRESH = itertools.count(1)


def _fresh_email(w: World) -> list[str]:
    return [f"fuzz-newcomer-{w.n}-{next(_FRESH)}@example.edu"]


_ATTEMPTS = "/api/v1/offerings/{offering_id}/content-items/{content_item_id}/attempts"
_QUIZ_FIRST = _rows("quiz_item_id", "content_item_id")
FUZZ_ANSWERS = {"q1": 1, "q2": 5.0}

OPERATION_SOURCES: dict[str, dict[tuple[str, str], Callable[[World], list[Any]]]] = {
    "POST /api/v1/auth/register": {("body", "email"): _fresh_email},
    "POST /api/v1/auth/register-with-onboarding": {("body", "email"): _fresh_email},
    "POST /api/v1/auth/check-email": {("body", "email"): lambda w: [w.rows["student_email"], *_fresh_email(w)]},
    "POST /api/v1/auth/change-password": {("body", "new_password"): lambda w: ["another-pass-2"]},
    "POST /api/v1/countries": {("body", "code"): _rows("free_country_code")},
    # A new version of the world's prompt, or a new prompt.
    "POST /api/v1/prompts": {("body", "name"): lambda w: [w.rows["prompt_name"], f"fuzz/new-{next(_FRESH)}"]},
    "POST /api/public/v2/prompts": {("body", "name"): lambda w: [w.rows["prompt_name"], f"fuzz/new-{next(_FRESH)}"]},
    # The quiz first, and answers it grades (one right and one wrong, or none at all) besides the generated ones.
    f"POST {_ATTEMPTS}": {("path", "content_item_id"): _QUIZ_FIRST, ("body", "answers"): lambda w: [FUZZ_ANSWERS, {}]},
    f"GET {_ATTEMPTS}": {("path", "content_item_id"): _QUIZ_FIRST},
    "GET /api/v1/offerings/{offering_id}/gradebook/items/{content_item_id}": {("path", "content_item_id"): _QUIZ_FIRST},
    "GET /api/v1/admin/analytics/tutor-usage": {
        ("query", "from"): lambda w: ["2026-01-01"],
        ("query", "to"): lambda w: ["2026-12-31"],
    },
}
# Properties named like ids that are not rows of ours.
NOT_IDS = frozenset({"body client_id"})  # the OAuth2 password form's client id


def _source(label: str, location: str, name: str) -> Callable[[World], list[Any]] | None:
    return OPERATION_SOURCES.get(label, {}).get((location, name)) or SOURCES.get((location, name))


def unmapped_path_parameters(document: dict[str, Any]) -> list[str]:
    """'METHOD /path name' for every path parameter of the document that SOURCES cannot fill."""
    return [
        f"{method.upper()} {path} {parameter['name']}"
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "path" and ("path", parameter["name"]) not in SOURCES
    ]


def unmapped_ids(document: dict[str, Any]) -> list[str]:
    """Query parameters and top-level body properties named like ids (`*_id`, `*_ids`) that SOURCES leaves to the
    generator: reported, so a new one is seen."""
    found: set[str] = set()
    schemas = document.get("components", {}).get("schemas", {})
    for operations in document["paths"].values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query" and ("query", parameter["name"]) not in SOURCES:
                    found.add(f"query {parameter['name']}")
            for content in operation.get("requestBody", {}).get("content", {}).values():
                ref = content.get("schema", {}).get("$ref", "")
                for name in schemas.get(ref.rsplit("/", 1)[-1], {}).get("properties", {}):
                    if ("body", name) not in SOURCES:
                        found.add(f"body {name}")
    return sorted(name for name in found if name.endswith(("_id", "_ids")) and name not in NOT_IDS)


def _choose(rnd: random.Random, source: Callable[[World], list[Any]], world: World, foreign: World, value: Any) -> Any:
    roll = rnd.random()
    if roll < REAL:
        return _value_like(value, source(world), rnd)
    if roll < REAL + FOREIGN:
        return _value_like(value, source(foreign), rnd)
    if roll < REAL + FOREIGN + OUT_OF_RANGE and isinstance(value, int) and not isinstance(value, bool):
        return rnd.choice(BEYOND)
    return value


def _value_like(value: Any, pool: list[Any], rnd: random.Random) -> Any:
    """One of `pool`, or a list of them where the generated value is a list."""
    if isinstance(value, list):
        return [rnd.choice(pool) for _ in range(min(len(value), len(pool)))]
    return rnd.choice(pool)


def fill(label: str, location: str, container: Any, world: World, foreign: World, rnd: random.Random) -> Any:
    """`container` (the path parameters, query or body of operation `label`) with the values SOURCES knows drawn
    from the world; bodies are walked into."""
    if isinstance(container, dict):
        filled = {}
        for key, value in container.items():
            source = _source(label, location, key)
            if source is not None:
                filled[key] = _choose(rnd, source, world, foreign, value)
            elif location == "body":
                filled[key] = fill(label, location, value, world, foreign, rnd)
            else:
                filled[key] = value
        return filled
    if isinstance(container, list) and location == "body":
        return [fill(label, location, item, world, foreign, rnd) for item in container]
    return container


def with_hostile_text(body: Any, rnd: random.Random) -> Any:
    """`body` (JSON) with one spot made hostile, in HOSTILE_CASES of the draws: a string gets a surrogate or NUL
    appended, or an object (free-form ones such as `data_json`, `config` and `variables` included) gets an entry
    whose key or value is one. The top of the range, so that a `Rotation` (always 0) never draws it."""
    if rnd.random() <= 1 - HOSTILE_CASES:
        return body
    spots: list[tuple[Any, Any]] = []  # (container, key): a string to spoil, or (object, None): an entry to add
    stack = [(None, None, body)]
    while stack:
        parent, key, value = stack.pop()
        if isinstance(value, str) and parent is not None:
            spots.append((parent, key))
        elif isinstance(value, dict):
            spots.append((value, None))
            stack.extend((value, k, v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((value, i, v) for i, v in enumerate(value))
    if not spots:
        return body
    container, key = rnd.choice(spots)
    text = rnd.choice(HOSTILE_TEXT)
    if key is None:
        container.update({text: "x"} if rnd.random() < 0.5 else {"hostile": text})
    else:
        container[key] = container[key] + text
    return body


_STRUCTURE_KEYWORDS = frozenset({"type", "properties", "anyOf", "oneOf", "allOf", "enum", "const", "items"})


def free_form_paths(document: dict[str, Any]) -> dict[str, list[tuple[str, ...]]]:
    """Operation label -> the places in its JSON body that take any JSON (`data_json`, a prompt's `config`, compile
    `variables`, a setting's `value`): where a value reaches the database or a template without a schema's check."""
    schemas = document.get("components", {}).get("schemas", {})

    def resolve(schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
        return schema

    def free(schema: dict[str, Any]) -> bool:
        schema = resolve(schema)
        if not _STRUCTURE_KEYWORDS & set(schema):
            return True
        if schema.get("type") == "object" and "properties" not in schema:
            return schema.get("additionalProperties") is True
        return any(free(variant) for variant in schema.get("anyOf", []))

    def walk(schema: dict[str, Any], path: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
        schema = resolve(schema)
        for name, prop in schema.get("properties", {}).items():
            if free(prop):
                yield (*path, name)
            elif len(path) < 4:
                yield from walk(prop, (*path, name))

    found: dict[str, list[tuple[str, ...]]] = {}
    for url, operations in document["paths"].items():
        for method, operation in operations.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None:
                paths = list(walk(body["schema"], ()))
                if paths:
                    found[f"{method.upper()} {url}"] = paths
    return found


def hostile_free_form(body: Any, paths: list[tuple[str, ...]], text: str) -> dict[str, Any]:
    """A copy of `body` (an object, or a new one) holding `{"hostile": <text>}` at each free-form place."""
    spoiled = copy.deepcopy(body) if isinstance(body, dict) else {}
    for path in paths:
        container = spoiled
        for name in path[:-1]:
            child = container.get(name)
            container[name] = child = child if isinstance(child, dict) else {}
            container = child
        container[path[-1]] = {"hostile": f"value {text}"}
    return spoiled


class Rotation(random.Random):
    """A `random.Random` for the coverage cases: every draw takes the real rows (`random()` is 0), the k-th case of an
    operation the k-th row of each pool, so the first case of each gets the rows that go furthest."""

    def __init__(self, k: int) -> None:
        super().__init__(k)
        self.k = k

    def random(self) -> float:
        return 0.0

    def choice(self, seq: Any) -> Any:
        return seq[self.k % len(seq)]


# --- Credentials of every odd shape, each signed with the server's own secret where it is a token -------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hand_signed(settings: Settings, payload: str, header: bytes = b'{"alg":"HS256","typ":"JWT"}') -> str:
    signing_input = f"{_b64(header)}.{_b64(payload.encode())}"
    key = settings.secret_key.get_secret_value().encode()
    return f"{signing_input}.{_b64(hmac.new(key, signing_input.encode(), hashlib.sha256).digest())}"


def hostile_credentials(settings: Settings, user_id: int) -> list[dict[str, str]]:
    """Authorization headers that must be a 401 (or ignored) on every route, never a 500: validly signed tokens
    whose claims no datetime or column can hold, a header that exhausts a JSON parser, junk, and Basic credentials
    that cannot be an API key."""
    now = int(time.time())
    claims = f'"sub": "{user_id}", "iat": {now}, "jti": "j", "fam": "f"'
    tokens = [
        _hand_signed(settings, f'{{{claims}, "exp": 1e20, "type": "access"}}'),
        _hand_signed(settings, f'{{{claims}, "exp": 1e308, "type": "access"}}'),
        _hand_signed(settings, f'{{{claims}, "exp": 1e20, "type": "refresh"}}'),
        _hand_signed(
            settings, f'{{"sub": "99999999999", "iat": {now}, "exp": {now + 600}, "jti": "j", "type": "access"}}'
        ),
        _hand_signed(settings, "{}", header=b"[" * 5_000 + b"]" * 5_000),
        "x" * 4_000,
    ]
    basics = [b"pk\x00lf:secret", b"p" * 10_000 + b":secret"]
    return [{"Authorization": f"Bearer {token}"} for token in tokens] + [
        {"Authorization": f"Basic {base64.b64encode(raw).decode()}"} for raw in basics
    ]


FUZZ_QUIZ: dict[str, Any] = {
    "pass_percent": 50,
    "max_attempts": None,
    "show_feedback": "after_each_attempt",
    "questions": [
        {
            "id": "q1",
            "type": "single_choice",
            "prompt": "d/dx sin(x^2)?",
            "choices": ["cos(x^2)", "2x cos(x^2)"],
            "answer_index": 1,
            "explanation": "The chain rule.",
        },
        {"id": "q2", "type": "numeric", "prompt": "d/dx x^2 at 3?", "answer": 6, "tolerance": 0.01},
    ],
}


# --- Seeding -------------------------------------------------------------------------------------------------------


# World n's spare country has code n (of the 676 two-letter codes), and code n + FREE_CODES_FROM is left free for
# the world's POST /countries: at most FREE_CODES_FROM worlds.
FREE_CODES_FROM = 300


def _country_code(n: int) -> str:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return letters[(n // 26) % 26] + letters[n % 26]


async def seed_world(db: AsyncSession, settings: Settings, n: int, *, country: Country, admin: User | None) -> World:
    """World `n`: for the platform admin when `admin` is given (then the owned rows are theirs), else for the
    world's own student. Flushed, not committed."""
    spare_country = Country(code=_country_code(n), name=f"Spare land {n}")
    db.add(spare_country)
    university = University(name=f"Fuzz University {n}", short_code=f"FZ{n}", country_id=country.id)
    db.add(university)
    await db.flush()
    department = await make_department(db, university=university)
    student = await make_user(db, email=f"fuzz-student-{n}@example.edu")
    student_grant = await grant_role(db, student, university, UserRole.STUDENT)
    instructor = await make_user(db, email=f"fuzz-instructor-{n}@example.edu")
    instructor_grant = await grant_role(db, instructor, university, UserRole.INSTRUCTOR, department=department)
    caller = admin or student

    domain, spare_domain = await make_domain(db), await make_domain(db)
    subject = await make_subject(db, domain=domain)
    leaf_subject = await make_subject(db, parent=subject)
    content_type, spare_content_type = await make_content_type(db), await make_content_type(db)
    course = await make_course(db, university=university, department=department, subject=subject)
    hidden_course = await make_course(
        db, university=university, department=department, subject=subject, is_published=False
    )
    root = await root_of(db, course)
    module = await make_module(db, parent=root, title="Derivatives")
    spare_module = await make_module(db, parent=root, title="Integrals", is_published=False)
    prompt_name = f"fuzz/world-{n}"
    await make_prompt(db, prompt_name, "Hello {{name}}, about {{topic}}.", labels=["staging"], tags=["fuzz"])
    await make_prompt(db, prompt_name, "Hi {{name}}.", labels=["production"])
    item = await make_content_item(
        db,
        module=module,
        content_type=content_type,
        title="The chain rule",
        data_json={"example": "d/dx sin(x^2)"},
        learning_objectives=["Apply the chain rule"],
    )
    second_item = await make_content_item(db, module=module, content_type=content_type, title="Product rule")
    # A quiz (a gradable type): attempts, the gradebook's item statistics, and progress that follows the grade.
    quiz_item = await make_content_item(
        db,
        module=module,
        content_type=await make_content_type(db, gradable=True),
        title="Chain rule check",
        data_json=FUZZ_QUIZ,
    )
    offering = await make_offering(db, course=course, visibility=Visibility.PUBLIC)
    unlisted = await make_offering(db, course=course, visibility=Visibility.UNLISTED)
    invite_code = f"fuzz-invite-{n}-{secrets.token_hex(4)}"
    invite_only = await make_offering(db, course=course, visibility=Visibility.INVITE_ONLY, invite_code=invite_code)
    student_enrollment = await make_enrollment(db, user=student, offering=offering, status=EnrollmentStatus.ACTIVE)
    enrollment = student_enrollment
    if admin is not None:
        enrollment = await make_enrollment(db, user=admin, offering=offering, status=EnrollmentStatus.ACTIVE)
    db.add(
        UserContentProgress(
            user_id=caller.id, course_offering_id=offering.id, content_item_id=item.id, progress_percent=40
        )
    )

    chat = ChatSession(
        user_id=caller.id,
        content_item_id=item.id,
        content_context={"content_title": item.title, "course_title": course.title},
        share_enabled=True,
        share_token=secrets.token_urlsafe(32),
    )
    second_chat = ChatSession(user_id=caller.id, content_context={})
    db.add_all([chat, second_chat])
    await db.flush()
    messages = [
        ChatMessage(session_id=chat.id, role=role, content=f"{role.value.lower()} {i}", meta={})
        for i, role in enumerate([MessageRole.USER, MessageRole.ASSISTANT, MessageRole.USER, MessageRole.ASSISTANT])
    ]
    db.add_all(messages)
    await db.flush()
    for parent, child in itertools.pairwise(messages):  # one path (docs/tutor.md, "Branches")
        child.parent_message_id = parent.id
    chat.active_leaf_message_id = messages[-1].id
    await db.flush()
    note = ChatNote(session_id=chat.id, message_id=messages[1].id, content="Remember the inner function")
    flag = TutorFlag(
        message_id=messages[0].id,
        session_id=chat.id,
        user_id=caller.id,
        university_id=university.id,
        course_id=course.id,
        category="self_harm",
        severity="high",
        screen="input",
        source="rules",
        escalated=True,
    )
    db.add(flag)
    request = FeatureRequest(user_id=caller.id, title="Dark mode", description="Please.")
    # A data export of the caller's, built and downloadable.
    archive = build_zip({"account.json": None})
    export = DataExport(
        user_id=caller.id,
        status="DONE",
        archive=archive,
        size_bytes=len(archive),
        completed_at=datetime.now(UTC),
        expires_at=datetime.now(UTC) + EXPORT_LIFETIME,
    )
    db.add_all([note, request, export])
    created_key = await create_key(db, settings, f"fuzz key {n}", None, scopes=tuple(Scope))
    # One invitation the caller may answer (a role from the admin; an enrolment from the instructor for a student)
    # and one to an address without an account, which its university's staff may list and revoke.
    expires_at = datetime.now(UTC) + INVITATION_LIFETIME
    if admin is not None:
        to_caller = Invitation(kind=InvitationKind.ROLE, role=UserRole.TA, invited_by_id=admin.id)
    else:
        to_caller = Invitation(
            kind=InvitationKind.ENROLLMENT,
            course_offering_id=unlisted.id,
            enrollment_status=EnrollmentStatus.ACTIVE,
            invited_by_id=instructor.id,
        )
    to_outsider = Invitation(
        kind=InvitationKind.ROLE, role=UserRole.STUDENT, email=f"fuzz-outsider-{n}@example.edu", invited_by_id=caller.id
    )
    to_caller.email = caller.email
    for invitation in (to_caller, to_outsider):
        invitation.university_id = university.id
        invitation.expires_at = expires_at
        invitation.token_hash = token_hash(secrets.token_urlsafe(32))
    db.add_all([to_caller, to_outsider])
    setting_key = f"fuzz.note.{n}"
    await put_setting(db, settings, setting_key, SettingWrite(value="a note", description="Fuzzed."))
    pair = await issue_pair(db, settings, caller.id)
    lti_platform = LtiPlatform(
        university_id=university.id,
        issuer=f"https://lms-{n}.example.edu",
        client_id=f"fuzz-client-{n}",
        deployment_ids=["1"],
        auth_login_url=f"https://lms-{n}.example.edu/auth",
        auth_token_url=f"https://lms-{n}.example.edu/token",
        jwks_url=f"https://lms-{n}.example.edu/jwks",
    )
    db.add(lti_platform)
    await db.flush()
    rows = {
        "university_id": university.id,
        "university_short_code": university.short_code,
        "department_id": department.id,
        "country_id": country.id,
        "spare_country_id": spare_country.id,
        "free_country_code": _country_code(n + FREE_CODES_FROM),
        "course_id": course.id,
        "hidden_course_id": hidden_course.id,
        "offering_id": offering.id,
        "unlisted_offering_id": unlisted.id,
        "invite_offering_id": invite_only.id,
        "invite_code": invite_code,
        "enrollment_id": enrollment.id,
        "student_enrollment_id": student_enrollment.id,
        "root_module_id": root.id,
        "module_id": module.id,
        "spare_module_id": spare_module.id,
        "content_item_id": item.id,
        "second_item_id": second_item.id,
        "quiz_item_id": quiz_item.id,
        "student_id": student.id,
        "student_email": student.email,
        "instructor_id": instructor.id,
        "student_grant_id": student_grant.id,
        "instructor_grant_id": instructor_grant.id,
        "session_id": chat.id,
        "second_session_id": second_chat.id,
        "question_id": messages[0].id,
        "answer_id": messages[1].id,
        "flag_id": flag.id,
        "last_message_id": messages[-1].id,
        "note_id": note.id,
        "feature_request_id": request.id,
        "export_id": export.id,
        "share_token": chat.share_token,
        "prompt_name": prompt_name,
        "setting_key": setting_key,
        "api_key_id": created_key.key.id,
        "invitation_id": to_caller.id,
        "outsider_invitation_id": to_outsider.id,
        "domain_id": domain.id,
        "spare_domain_id": spare_domain.id,
        "subject_id": subject.id,
        "leaf_subject_id": leaf_subject.id,
        "content_type_id": content_type.id,
        "spare_content_type_id": spare_content_type.id,
        "lti_platform_id": lti_platform.id,
    }
    return World(
        n=n,
        caller=caller,
        headers=auth_headers(settings, caller),
        api_key_headers=basic_auth(created_key.key.public_key, created_key.secret_key),
        refresh_token=pair.refresh_token,
        rows=rows,
    )


def labels_needing_their_own_world(labels: Iterable[str]) -> list[str]:
    """Operations that may change what they touch get a world of their own; reads share one per caller."""
    return [label for label in labels if not label.startswith("GET ")]
