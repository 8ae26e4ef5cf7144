"""Fuzz every operation of the OpenAPI document with schemathesis, inside a seeded world, as a platform admin and as
a student; then follow the links schemathesis infers between operations (stateful), as the admin.

The app runs under uvicorn (a thread of its own) on a scratch database. Every operation that may change what it
touches gets a world of its own (tests/reliability/fuzz_world.py: a university with one of everything, owned by
the caller), so a DELETE of a university cannot empty the operations after it; reads share one world per caller.
Path, query and body ids are drawn from the caller's world (hooks on the fuzzing phase, a rotation over the same
rows for the coverage cases schemathesis builds before the world exists), mixed with another university's rows,
ids beyond any column and the generated values; a fifth of the fuzzed JSON bodies carry an unpaired surrogate or a
NUL somewhere. Once per operation and caller the request is also sent with an odd credential (a signed token with
`exp: 1e20`, a user id beyond int4, a header nested 5,000 deep, Basic credentials with a NUL...), and the first
request an operation accepts is sent again with hostile text in every place its body takes any JSON. The LLM is the
fake Anthropic server, so the tutor's turn runs for real (JSON mode: schemathesis does not ask for
`text/event-stream`).

Checks on every response: no 5xx, every status documented, every body valid against the schema documented for its
status (the probes: no 5xx). Figures (operations, 2xx per caller, statuses, runtime) are printed at the end of the
module and recorded in docs/reliability.md; a test fails if the admin's run stops reaching the inside of the API.
"""

from __future__ import annotations

import collections
import random
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.errors import Flaky
from schemathesis.checks import not_a_server_error
from schemathesis.generation.meta import TestPhase
from schemathesis.generation.stateful.state_machine import StepInput, StepOutput
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.fakes import FakeAnthropic
from tests.fixtures.factories import grant_role, make_university, make_user
from tests.fixtures.live_server import serve
from tests.reliability.fuzz_world import (
    ADMIN,
    HOSTILE_TEXT,
    STUDENT,
    Rotation,
    World,
    fill,
    free_form_paths,
    hostile_credentials,
    hostile_free_form,
    labels_needing_their_own_world,
    seed_world,
    unmapped_ids,
    unmapped_path_parameters,
    with_hostile_text,
)
from tests.reliability.scratch import restored_logging, scratch_database
from twosigma.app import create_app
from twosigma.config import Settings
from twosigma.db.engine import make_engine, make_sessionmaker
from twosigma.enums import UserRole
from twosigma.tenancy.models import Country
from twosigma.tutor.builtin_prompts import install_builtin_prompts

EXAMPLES_PER_OPERATION = 12
STATEFUL_SCENARIOS = 25
STATEFUL_STEPS = 12
# The admin's run must keep reaching this many operations with a 2xx (of 136 when this was written).
ADMIN_2XX_FLOOR = 120
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Out of reach of any id the fuzzer draws: the admin's own DELETE or deactivation cannot take their rights away.
HIDDEN_ID = 1_000_000_007

# The document does not depend on the database or the settings' secrets; schemathesis needs it at collection.
# (Eager, not `schemathesis.pytest.from_fixture`: its lazy loader writes `node._nodeid`, gone in pytest 9.)
with restored_logging():
    DOCUMENT = create_app(Settings(_env_file=None)).openapi()  # type: ignore[call-arg]
schema = schemathesis.openapi.from_dict(DOCUMENT)
LABELS = [result.ok().label for result in schema.get_all_operations()]
FREE_FORM = free_form_paths(DOCUMENT)
JSON_BODIES = {
    f"{method.upper()} {path}"
    for path, operations in DOCUMENT["paths"].items()
    for method, operation in operations.items()
    if "application/json" in operation.get("requestBody", {}).get("content", {})
}


@dataclass
class FuzzTarget:
    base_url: str
    worlds: dict[tuple[str, str], World]  # (caller, operation label) -> its own world
    shared: dict[str, World]  # caller -> the world its reads share
    foreign: World  # another university: rows the callers may not reach
    stateful: World
    hostile_headers: list[dict[str, str]]
    statuses: dict[str, collections.Counter[int]] = field(
        default_factory=lambda: collections.defaultdict(collections.Counter)
    )
    explicit_cases: collections.Counter[tuple[str, str]] = field(default_factory=collections.Counter)
    stateful_failures: list[BaseException] = field(default_factory=list)
    probed: set[tuple[str, str]] = field(default_factory=set)  # sent with odd credentials
    spoiled: set[tuple[str, str]] = field(default_factory=set)  # sent with hostile free-form JSON
    started: float = field(default_factory=time.monotonic)

    def world(self, role: str, label: str) -> World:
        return self.worlds.get((role, label)) or self.shared[role]

    def record(self, role: str, label: str, status: int) -> None:
        self.statuses[role][status] += 1
        self.statuses[f"{role} {label}"][status] += 1

    def operations_run(self, role: str) -> set[str]:
        return {key.removeprefix(f"{role} ") for key in self.statuses if key.startswith(f"{role} ")}

    def answered_2xx(self, role: str) -> set[str]:
        prefix = f"{role} "
        return {
            key.removeprefix(prefix)
            for key, counts in self.statuses.items()
            if key.startswith(prefix) and any(200 <= status < 300 for status in counts)
        }


# The hooks run while Hypothesis draws, before the test body: they find the target here.
TARGET: FuzzTarget | None = None


@pytest.fixture(scope="module")
def _llm_environment(_fake_anthropic_server: FakeAnthropic) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TWOSIGMA_LLM_PROVIDER", "anthropic")
        mp.setenv("TWOSIGMA_LLM_ANTHROPIC_API_KEY", "sk-ant-fuzz-0123456789")
        mp.setenv("TWOSIGMA_LLM_ANTHROPIC_BASE_URL", _fake_anthropic_server.url)
        mp.setenv("TWOSIGMA_LLM_DEFAULT_MODEL", "claude-fuzz-test")
        mp.setenv("TWOSIGMA_LLM_TIMEOUT_SECONDS", "5")
        yield


async def _seed(url: str, settings: Settings) -> tuple[dict[tuple[str, str], World], dict[str, World], World, World]:
    engine = make_engine(url, settings)
    try:
        async with make_sessionmaker(engine)() as db:
            country = Country(code="ZZ", name="Fuzzland")
            db.add(country)
            await db.flush()
            platform = await make_university(db, id=HIDDEN_ID, short_code="FUZZROOT", country=country)
            admin = await make_user(db, id=HIDDEN_ID, email="fuzz-admin@example.edu")
            await grant_role(db, admin, platform, UserRole.PLATFORM_ADMIN)
            await install_builtin_prompts(db)
            numbers = iter(range(600))

            async def world(role: str) -> World:
                return await seed_world(
                    db, settings, next(numbers), country=country, admin=admin if role == ADMIN else None
                )

            foreign = await world(STUDENT)
            shared = {role: await world(role) for role in (STUDENT, ADMIN)}
            own = {
                (role, label): await world(role)
                for role in (STUDENT, ADMIN)
                for label in labels_needing_their_own_world(LABELS)
            }
            stateful = await world(ADMIN)
            await db.commit()
            return own, shared, foreign, stateful
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
async def fuzz_target(server_url: str, settings: Settings, _llm_environment: None) -> AsyncIterator[FuzzTarget]:
    global TARGET
    unmapped = unmapped_path_parameters(DOCUMENT)
    if unmapped:
        pytest.fail(f"path parameters with no source in tests/reliability/fuzz_world.py SOURCES: {unmapped}")
    async with scratch_database(server_url, settings) as url:
        # Sign-in throttling is tested elsewhere (tests/security); here every sign-in should reach the inside.
        app_settings = settings.model_copy(
            update={"database_url": url, "login_attempts_per_minute": 1_000_000, "registrations_per_minute": 1_000_000}
        )
        seeding = time.monotonic()
        own, shared, foreign, stateful = await _seed(url, app_settings)
        seeded_in = time.monotonic() - seeding
        with restored_logging(), serve(create_app(app_settings)) as base_url:
            hostile = hostile_credentials(app_settings, HIDDEN_ID)
            TARGET = FuzzTarget(base_url, own, shared, foreign, stateful, hostile)
            try:
                yield TARGET
            finally:
                _report(TARGET, seeded_in)
                TARGET = None


def _report(target: FuzzTarget, seeded_in: float) -> None:
    lines = ["", f"schemathesis figures ({len(LABELS)} operations):"]
    lines.append(f"  worlds seeded: {len(target.worlds) + len(target.shared) + 2} in {seeded_in:.1f} s")
    for role in (STUDENT, ADMIN, "stateful", "odd credentials", "free-form hostile"):
        counts = target.statuses.get(role)
        if not counts:
            continue
        total = sum(counts.values())
        server_errors = sum(n for status, n in counts.items() if status >= 500)
        reached = target.answered_2xx(role)
        lines.append(
            f"  {role}: {total} calls, {len(reached)} operations answered a 2xx, 5xx={server_errors}, "
            f"statuses {dict(sorted(counts.items()))}"
        )
        if role in (STUDENT, ADMIN):
            ran = target.operations_run(role)
            lines.append(f"    of {len(ran)} operations run, never a 2xx: {sorted(ran - reached)}")
    lines.append(f"  ids left to the generator: {unmapped_ids(DOCUMENT)}")
    lines.append(f"  wall time (seeding included): {time.monotonic() - target.started + seeded_in:.0f} s")
    print("\n".join(lines))  # noqa: T201 - the figures are the point of this suite


# --- Drawing from the world ------------------------------------------------------------------------------------


def _from_world(role: str, location: str) -> Callable[[Any, Any], st.SearchStrategy[Any]]:
    """A flatmap hook for one container: the generated value with its known ids redrawn from the caller's world."""

    def hook(context: Any, value: Any) -> st.SearchStrategy[Any]:
        target = TARGET
        if target is None or context.operation is None:
            return st.just(value)
        world = target.world(role, context.operation.label)
        label = context.operation.label
        # A form cannot carry a surrogate (the client's UTF-8 encoding fails): hostile text goes in JSON bodies only.
        hostile = location == "body" and label in JSON_BODIES

        def draw(rnd: random.Random) -> Any:
            filled = fill(label, location, value, world, target.foreign, rnd)
            return with_hostile_text(filled, rnd) if hostile else filled

        return st.randoms(use_true_random=False).map(draw)

    return hook


def in_the_world_of(role: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    def decorate(test: Callable[..., None]) -> Callable[..., None]:
        for location, container in (("path", "path_parameters"), ("query", "query"), ("body", "body")):
            test = schema.hooks.apply(_from_world(role, location), name=f"flatmap_{container}")(test)
        return test

    return decorate


def _fill_explicit_case(case: schemathesis.Case, target: FuzzTarget, role: str) -> None:
    """Coverage and examples cases were built at collection: their ids are filled here, from the k-th rows of the
    world, except where a negative case puts its violation."""
    meta = case.meta
    label = case.operation.label
    world = target.world(role, label)
    rotation = Rotation(target.explicit_cases[(role, label)])
    target.explicit_cases[(role, label)] += 1
    keep = None
    if meta is not None and meta.generation.mode.is_negative:
        keep = getattr(meta.phase.data, "parameter_location", None)
        keep = keep.value if keep is not None else "everything"
    if keep == "everything":
        return
    if keep != "path":
        case.path_parameters = fill(label, "path", case.path_parameters, world, target.foreign, rotation)
    if keep != "query" and case.query:
        case.query = fill(label, "query", case.query, world, target.foreign, rotation)
    if keep != "body" and isinstance(case.body, dict | list):
        case.body = fill(label, "body", case.body, world, target.foreign, rotation)


FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


def _call(case: schemathesis.Case, target: FuzzTarget, role: str) -> None:
    meta = case.meta
    if meta is None or meta.phase.name is not TestPhase.FUZZING:
        _fill_explicit_case(case, target, role)
    label = case.operation.label
    headers = target.world(role, label).headers_for(label)
    response = case.call(base_url=target.base_url, headers=headers, timeout=30)
    target.record(role, label, response.status_code)
    case.validate_response(response, checks=CHECKS, headers=headers)
    # (Not on a coverage case sent with a method the route does not have: that is a 405 whatever it carries.)
    if (role, label) not in target.probed and response.status_code != 405:
        target.probed.add((role, label))
        _with_odd_credentials(case, target, role)
    if 200 <= response.status_code < 300 and label in FREE_FORM and (role, label) not in target.spoiled:
        target.spoiled.add((role, label))
        _with_hostile_free_form(case, target, headers)


def _with_odd_credentials(case: schemathesis.Case, target: FuzzTarget, role: str) -> None:
    """Once per operation and caller: the same request with one of the odd credentials, in turn (never a 5xx)."""
    label = case.operation.label
    odd = target.hostile_headers[(LABELS.index(label) + (role == ADMIN)) % len(target.hostile_headers)]
    response = case.call(base_url=target.base_url, headers=odd, timeout=30)
    target.record("odd credentials", label, response.status_code)
    case.validate_response(response, checks=[not_a_server_error], headers=odd)


def _with_hostile_free_form(case: schemathesis.Case, target: FuzzTarget, headers: dict[str, str]) -> None:
    """The first request of an operation that answered a 2xx, again with an unpaired surrogate (and then a NUL) in
    every place its body takes any JSON: a body the route accepts, so the value goes as far as it can (never a
    5xx)."""
    label = case.operation.label
    original = case.body
    try:
        for text in HOSTILE_TEXT:
            case.body = hostile_free_form(original, FREE_FORM[label], text)
            response = case.call(base_url=target.base_url, headers=headers, timeout=30)
            target.record("free-form hostile", label, response.status_code)
            case.validate_response(response, checks=[not_a_server_error], headers=headers)
    finally:
        case.body = original


@in_the_world_of(STUDENT)
@schema.parametrize()
@FUZZ_SETTINGS
def test_every_operation_as_a_student(case: schemathesis.Case, fuzz_target: FuzzTarget) -> None:
    _call(case, fuzz_target, STUDENT)


@in_the_world_of(ADMIN)
@schema.parametrize()
@FUZZ_SETTINGS
def test_every_operation_as_a_platform_admin(case: schemathesis.Case, fuzz_target: FuzzTarget) -> None:
    _call(case, fuzz_target, ADMIN)


# --- Stateful: the links schemathesis infers (a created id fed to the operations that take it) -----------------


class AdminWorkflow(schema.as_state_machine()):  # type: ignore[misc]
    """Scenarios of linked operations as the platform admin, in a world of their own: what a link supplies comes
    from an earlier response; every other id from the world."""

    step_number = 0

    def step(self, input: StepInput) -> StepOutput:
        target = TARGET
        assert target is not None
        applied = {(location.value, name) for location, name in input.applied_parameters}
        AdminWorkflow.step_number += 1
        rnd = random.Random(AdminWorkflow.step_number)
        case = input.case
        linked_path = {name for location, name in applied if location == "path"}
        label = case.operation.label
        filled = fill(label, "path", case.path_parameters, target.stateful, target.foreign, rnd)
        case.path_parameters = {k: case.path_parameters[k] if k in linked_path else v for k, v in filled.items()}
        if not any(location == "body" for location, _ in applied) and isinstance(case.body, dict):
            case.body = fill(label, "body", case.body, target.stateful, target.foreign, rnd)
        return super().step(input)

    def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
        target = TARGET
        assert target is not None
        return {
            "base_url": target.base_url,
            "headers": target.stateful.headers_for(case.operation.label),
            "timeout": 30,
        }

    def after_call(self, response: Any, case: schemathesis.Case) -> None:
        target = TARGET
        assert target is not None
        target.record("stateful", case.operation.label, response.status_code)

    def validate_response(
        self, response: Any, case: schemathesis.Case, additional_checks: Any = None, **kwargs: Any
    ) -> None:
        try:
            case.validate_response(response, checks=CHECKS, headers=kwargs.get("headers"))
        except Exception as exc:
            assert TARGET is not None
            TARGET.stateful_failures.append(exc)
            raise


def test_linked_operations_as_a_platform_admin(fuzz_target: FuzzTarget) -> None:
    """Generation only, as schemathesis's own runner does: a scenario replayed against a server whose data it
    changed does not behave as it did, and Hypothesis calls that flaky. A flaky replay passes unless a check failed
    in the run; a check that failed fails the test with its own error."""
    try:
        AdminWorkflow.run(
            settings=settings(
                max_examples=STATEFUL_SCENARIOS,
                stateful_step_count=STATEFUL_STEPS,
                phases=[Phase.generate],
                derandomize=True,
                database=None,
                deadline=None,
                suppress_health_check=list(HealthCheck),
            )
        )
    except Flaky:
        if fuzz_target.stateful_failures:
            raise fuzz_target.stateful_failures[0] from None


def test_the_admin_reached_the_inside_of_the_api(fuzz_target: FuzzTarget) -> None:
    """Runs last: fails when the seeded world stops working (every id a 404) and the fuzzer knocks on closed doors."""
    if fuzz_target.operations_run(ADMIN) != set(LABELS):
        pytest.skip("the admin's run was not complete (selected with -k?)")
    assert len(fuzz_target.answered_2xx(ADMIN)) >= ADMIN_2XX_FLOOR


def test_every_path_parameter_has_a_source_in_the_world() -> None:
    """A route added with a new path parameter name fails here until fuzz_world.SOURCES says which rows it takes."""
    assert unmapped_path_parameters(DOCUMENT) == []
