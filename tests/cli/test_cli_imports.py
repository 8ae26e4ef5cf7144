"""`twosigma --help` and `twosigma <group> --help` load the command declarations, not the application: no FastAPI
app, no ORM models, no services, no settings. Checked structurally, in a fresh interpreter's `sys.modules`; how fast
that is, bench/ measures (the `cli` scenario)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

GROUPS = ["db", "settings", "prompts", "api-keys", "demo", "admin", "lti", "index"]

# Prefixes of modules a help screen must not load.
HEAVY = (
    "twosigma.app",
    "twosigma.config",
    "twosigma.db.",
    "twosigma.models",
    "fastapi",
    "starlette",
    "sqlalchemy",
    "asyncpg",
    "alembic",
    "uvicorn",
    "anthropic",
    "openai",
)

PROBE = """
import importlib, json, sys
for name in sys.argv[1].split(","):
    if name:
        importlib.import_module(name)
from twosigma.cli import app
try:
    app(sys.argv[2:], prog_name="twosigma")
except SystemExit as exit:
    code = exit.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def loaded_by(*args: str, preload: str = "") -> tuple[object, list[str]]:
    run = subprocess.run(
        [sys.executable, "-c", PROBE, preload, *args], capture_output=True, text=True, timeout=120, check=True
    )
    report = json.loads(run.stdout.strip().splitlines()[-1])
    return report["code"], report["modules"]


def heavy(modules: list[str]) -> list[str]:
    loaded = []
    for name in modules:
        if name.startswith(HEAVY) or (name.startswith("twosigma.") and name.endswith((".service", ".models"))):
            loaded.append(name)
    return loaded


COMMANDS = [["doctor", "--help"], ["db", "status", "--help"], ["db", "backup", "--help"]]


@pytest.mark.parametrize("args", [["--help"], *[[group, "--help"] for group in GROUPS], *COMMANDS], ids=" ".join)
def test_help_loads_no_application_module(args: list[str]) -> None:
    code, modules = loaded_by(*args)
    assert code == 0
    assert "twosigma.cli" in modules
    assert heavy(modules) == []


def test_the_probe_sees_what_a_command_loads() -> None:
    # The probe is not blind: a module the command line imports shows up.
    code, modules = loaded_by("--help", preload="twosigma.system_settings.service")
    assert code == 0
    assert "twosigma.system_settings.service" in heavy(modules)
    assert "sqlalchemy" in heavy(modules)
