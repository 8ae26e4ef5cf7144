"""Fuzz every operation of the OpenAPI document with schemathesis, as a platform admin and as a student.

The app runs under uvicorn (a thread of its own) on a scratch database seeded with one of everything, so random
ids from 1 upwards often hit real rows. The LLM is the fake Anthropic server, so even the tutor's turn runs for
real (in JSON mode: schemathesis does not ask for `text/event-stream`). Checks: no 5xx, every status documented,
every body valid against the schema documented for its status (the error shape for errors).

Figures (operations x examples, 2xx hits, 5xx, violations) are printed at the end of the module and recorded in
docs/reliability.md.
"""

from __future__ import annotations

import collections
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.fakes import FakeAnthropic
from tests.fixtures.live_server import serve
from tests.reliability.scratch import restored_logging, scratch_database
from tests.reliability.seed import SeededWorld, seed_world
from twosigma.app import create_app
from twosigma.config import Settings

EXAMPLES_PER_OPERATION = 6
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@dataclass
class FuzzTarget:
    base_url: str
    world: SeededWorld
    statuses: dict[str, collections.Counter[int]] = field(
        default_factory=lambda: collections.defaultdict(collections.Counter)
    )


@pytest.fixture(scope="module")
def _llm_environment(_fake_anthropic_server: FakeAnthropic) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TWOSIGMA_LLM_PROVIDER", "anthropic")
        mp.setenv("TWOSIGMA_LLM_ANTHROPIC_API_KEY", "sk-ant-fuzz-0123456789")
        mp.setenv("TWOSIGMA_LLM_ANTHROPIC_BASE_URL", _fake_anthropic_server.url)
        mp.setenv("TWOSIGMA_LLM_DEFAULT_MODEL", "claude-fuzz-test")
        mp.setenv("TWOSIGMA_LLM_TIMEOUT_SECONDS", "5")
        yield


@pytest.fixture(scope="module")
async def fuzz_target(server_url: str, settings: Settings, _llm_environment: None) -> AsyncIterator[FuzzTarget]:
    async with scratch_database(server_url, settings) as url:
        app_settings = settings.model_copy(update={"database_url": url})
        world = await seed_world(url, app_settings)
        with restored_logging(), serve(create_app(app_settings)) as base_url:
            target = FuzzTarget(base_url, world)
            yield target
        _report(target)


def _report(target: FuzzTarget) -> None:
    lines = ["", "schemathesis figures:"]
    for role, counts in sorted(target.statuses.items()):
        total = sum(counts.values())
        server_errors = sum(n for status, n in counts.items() if status >= 500)
        lines.append(f"  {role}: {total} calls, statuses {dict(sorted(counts.items()))}, 5xx={server_errors}")
    print("\n".join(lines))  # noqa: T201 - the figures are the point of this suite


# The document does not depend on the database or the settings' secrets; schemathesis needs it at collection.
# (Eager, not `schemathesis.pytest.from_fixture`: its lazy loader writes `node._nodeid`, gone in pytest 9.)
with restored_logging():
    schema = schemathesis.openapi.from_dict(create_app(Settings(_env_file=None)).openapi())  # type: ignore[call-arg]

FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


def _call(case: schemathesis.Case, target: FuzzTarget, role: str, headers: dict[str, str]) -> None:
    response = case.call(base_url=target.base_url, headers=headers, timeout=30)
    target.statuses[role][response.status_code] += 1
    target.statuses[f"{role} {case.operation.label}"][response.status_code] += 1
    case.validate_response(response, checks=CHECKS, headers=headers)


@schema.parametrize()
@FUZZ_SETTINGS
def test_every_operation_as_a_student(case: schemathesis.Case, fuzz_target: FuzzTarget) -> None:
    _call(case, fuzz_target, "student", fuzz_target.world.student_headers)


# After the student's run: the admin's DELETEs may remove the seeded world.
@schema.parametrize()
@FUZZ_SETTINGS
def test_every_operation_as_a_platform_admin(case: schemathesis.Case, fuzz_target: FuzzTarget) -> None:
    _call(case, fuzz_target, "admin", fuzz_target.world.admin_headers)
