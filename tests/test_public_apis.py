"""No private name of a dependency in `src/twosigma` (issue 18): a framework's minor release may change anything
that starts with an underscore, so the code reaches FastAPI, Starlette, SQLAlchemy, uvicorn and every other
dependency through public names only (the pins and tests/kit/test_pins.py cover the public behaviour relied on).

Checked on every module's syntax tree:
1. imports: no module path or imported name of a dependency with a leading underscore (`starlette._utils`,
   `from fastapi.routing import _IncludedRouter`);
2. attributes: no `obj._name` where `_name` is not defined anywhere in our own code (so `self._entries` of our own
   class passes, `router._get_routes_version` or `engine.sync_engine._something` does not);
3. the ASGI scope's `"fastapi"` key, where FastAPI keeps its internal routing state.
Each rule also runs on a small module that breaks it, so none passes vacuously.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "src" / "twosigma"
OURS = "twosigma"


def _private(part: str) -> bool:
    return part.startswith("_") and not (part.startswith("__") and part.endswith("__"))


def _ours(module: str) -> bool:
    return module == OURS or module.startswith(f"{OURS}.")


def defined_private_names(trees: Iterable[ast.AST]) -> set[str]:
    """Every `_name` our code defines: functions, classes, module and class attributes, `self._x = …`, parameters."""
    names: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
            elif isinstance(node, ast.alias):
                names.add(node.asname or node.name)
    return {name for name in names if _private(name)}


def violations(module: str, tree: ast.AST, ours: set[str]) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if not _ours(alias.name) and any(_private(part) for part in alias.name.split(".")):
                    yield f"{module}:{node.lineno} imports {alias.name}"
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module and not _ours(node.module):
            if any(_private(part) for part in node.module.split(".")):
                yield f"{module}:{node.lineno} imports from {node.module}"
            for alias in node.names:
                if _private(alias.name):
                    yield f"{module}:{node.lineno} imports {node.module}.{alias.name}"
        elif isinstance(node, ast.Attribute) and _private(node.attr) and node.attr not in ours:
            yield f"{module}:{node.lineno} reads .{node.attr}, which is not ours"
        elif (
            isinstance(node, ast.Subscript)
            and isinstance(node.slice, ast.Constant)
            and node.slice.value == "fastapi"
            and isinstance(node.value, ast.Name)
            and node.value.id == "scope"
        ):
            yield f"{module}:{node.lineno} reads scope['fastapi']"


def _modules() -> dict[str, ast.Module]:
    return {
        ".".join(path.relative_to(ROOT.parent).with_suffix("").parts): ast.parse(path.read_text(), str(path))
        for path in sorted(ROOT.rglob("*.py"))
    }


def test_src_uses_no_private_name_of_a_dependency() -> None:
    modules = _modules()
    ours = defined_private_names(modules.values())
    found = [problem for name, tree in modules.items() for problem in violations(name, tree, ours)]
    assert not found, "\n".join(found)


def test_the_walk_sees_every_module() -> None:
    assert len(_modules()) > 100
    assert "twosigma.kit.routing" in _modules()


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from starlette._utils import get_route_path", "imports from starlette._utils"),
        ("import sqlalchemy.util._collections", "imports sqlalchemy.util._collections"),
        ("from fastapi.routing import _IncludedRouter", "imports fastapi.routing._IncludedRouter"),
        ("def f(router):\n    return router._get_routes_version()", "reads ._get_routes_version"),
        ("def f(scope):\n    return scope['fastapi']", "reads scope['fastapi']"),
    ],
)
def test_each_rule_catches_its_breach(source: str, expected: str) -> None:
    tree = ast.parse(source)
    found = list(violations("bad", tree, defined_private_names([tree])))
    assert any(expected in problem for problem in found), found


def test_our_own_private_names_pass() -> None:
    source = "class C:\n    def __init__(self):\n        self._n = 1\n\n    def get(self):\n        return self._n\n"
    tree = ast.parse(source)
    assert list(violations("good", tree, defined_private_names([tree]))) == []


def test_python_itself_is_a_dependency_too() -> None:
    tree = ast.parse("import sys\nsys._getframe()")
    assert list(violations("bad", tree, defined_private_names([tree]))) == ["bad:2 reads ._getframe, which is not ours"]
    assert sys.version_info >= (3, 11)
