"""The import rules of docs/architecture.md, checked on the real import graph of `src/twosigma` (every module parsed
with `ast`; function-local imports count like module-level ones).

1. HTTP layer. A module of the HTTP layer is a `router.py`, a `*_router.py`, a module under a `routers/` package, or
   a `dependencies.py`; `app.py`, `__main__.py` and the CLI (`cli.py`) are entry points. No other module (services,
   repositories, authz loaders, kit, ...) imports an HTTP-layer module: services call authz loaders and other
   services, never a FastAPI dependency.
2. Tables. A model belongs to the domain package holding its `models.py`. Only that domain writes its tables: a module
   of another package neither builds an `insert()`, `update()` or `delete()` on the model, nor constructs one of its
   instances (an ORM insert), nor sends `INSERT INTO` / `UPDATE` / `DELETE FROM` on its table in SQL text. It asks
   the owning domain's service instead. Not covered (a static check cannot see them): attribute writes on an
   instance loaded elsewhere, and `session.delete(obj)`. Not checked: migrations, the demo seed (`twosigma.demo`,
   which builds a whole dataset on purpose) and the tests. `WRITE_ALLOWED` lists the exceptions, each with its
   reason.
3. Permissions. The predicates of `authz/policy.py` are the building blocks of authz: only modules of `twosigma.authz`
   call them. Everyone else asks authz's named decisions and loaders (`twosigma.authz.access.*`, `authz.membership`,
   `authz.tutor`, `authz.scopes`, ...), and the domains' `dependencies.py` only alias authz's loaders.

4. File names. A domain's routes are in its `router.py`, or in a `routers/` package when it has several routers;
   no other module builds an `APIRouter` (kit/routing.py defines it; health/router.py, the ops routes, is a router).
5. Foundations. `kit` and `db` import no domain when they run: names of domain types for annotations only, under
   `if TYPE_CHECKING:`.

Each rule is also run on small synthetic modules that break it, so none can pass vacuously.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "src" / "twosigma"
PACKAGE = "twosigma"

ENTRY_POINTS = frozenset({"app", "__main__", "cli"})
NOT_TABLE_CHECKED = ("twosigma.migrations", "twosigma.demo")

# (writing module, model) pairs allowed to cross a domain's border, and why. Keep this list short.
WRITE_ALLOWED: dict[tuple[str, str], str] = {}

WRITE_FUNCTIONS = frozenset({"insert", "update", "delete"})
SQL_WRITE = re.compile(r"\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?([a-z_][a-z0-9_]*)", re.IGNORECASE)


@dataclass
class Module:
    name: str
    tree: ast.Module
    # local name -> fully qualified name it was imported as (`twosigma.x.models.User`, `sqlalchemy.update`, ...)
    bindings: dict[str, str] = field(default_factory=dict)
    imported: set[str] = field(default_factory=set)  # modules (or module.attribute) named by its imports


def parse(name: str, source: str) -> Module:
    module = Module(name, ast.parse(source))
    package = name.rsplit(".", 1)[0] if not name.endswith("__init__") else name
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                module.imported.add(alias.name)
                module.bindings[alias.asname or alias.name.split(".")[0]] = (
                    alias.name if alias.asname else alias.name.split(".")[0]
                )
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            module.imported.add(base)
            for alias in node.names:
                module.imported.add(f"{base}.{alias.name}")
                module.bindings[alias.asname or alias.name] = f"{base}.{alias.name}"
    return module


def load_source_tree(root: Path = ROOT) -> dict[str, Module]:
    modules = {}
    for path in sorted(root.rglob("*.py")):
        parts = (PACKAGE, *path.relative_to(root).with_suffix("").parts)
        name = ".".join(parts[:-1]) if parts[-1] == "__init__" else ".".join(parts)
        modules[name] = parse(name, path.read_text())
    return modules


def is_http_layer(name: str) -> bool:
    parts = name.split(".")
    last = parts[-1]
    return last in {"router", "routers", "dependencies"} or "routers" in parts[:-1]


def is_entry_point(name: str) -> bool:
    return name.split(".")[-1] in ENTRY_POINTS


def domain_of(name: str) -> str:
    """`twosigma.tenancy.repository` -> `tenancy`; a top-level module is its own domain."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


# --- Rule 1 --------------------------------------------------------------------------------------------------------


def http_imports(modules: dict[str, Module]) -> Iterator[str]:
    for name, module in modules.items():
        if is_http_layer(name) or is_entry_point(name):
            continue
        for target in sorted(module.imported):
            if target.startswith(f"{PACKAGE}.") and is_http_layer(target) and target in modules:
                yield f"{name} imports {target}"


# --- Rule 2 --------------------------------------------------------------------------------------------------------


def model_owners(modules: dict[str, Module]) -> tuple[dict[str, str], dict[str, str]]:
    """({qualified model class: domain}, {table name: domain}) from every `<domain>/models.py`."""
    classes: dict[str, str] = {}
    tables: dict[str, str] = {}
    for name, module in modules.items():
        if not name.endswith(".models") or name.count(".") != 2:
            continue
        for node in module.tree.body:
            if isinstance(node, ast.ClassDef):
                classes[f"{name}.{node.name}"] = domain_of(name)
                for stmt in node.body:
                    if (
                        isinstance(stmt, ast.Assign)
                        and any(isinstance(t, ast.Name) and t.id == "__tablename__" for t in stmt.targets)
                        and isinstance(stmt.value, ast.Constant)
                        and isinstance(stmt.value.value, str)
                    ):
                        tables[stmt.value.value] = domain_of(name)
    return classes, tables


def _qualified(module: Module, node: ast.expr) -> str | None:
    """The imported name an expression stands for: `User` -> `twosigma.users.models.User`, `models.User` too."""
    if isinstance(node, ast.Name):
        return module.bindings.get(node.id)
    if isinstance(node, ast.Attribute):
        if node.attr == "__table__":
            return _qualified(module, node.value)
        base = _qualified(module, node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def foreign_writes(
    modules: dict[str, Module], classes: dict[str, str], tables: dict[str, str]
) -> Iterator[tuple[str, str]]:
    """(module, model or table) for each write of another domain's table."""
    for name, module in modules.items():
        if name.startswith(NOT_TABLE_CHECKED) or name == f"{PACKAGE}.models":
            continue
        here = domain_of(name)
        for node in ast.walk(module.tree):
            if isinstance(node, ast.Call):
                func = _qualified(module, node.func)
                if func is None:
                    continue
                target: str | None = None
                if func in classes:
                    target = func  # Model(...): an instance made to be added
                elif func.split(".")[0] == "sqlalchemy" and func.split(".")[-1] in WRITE_FUNCTIONS and node.args:
                    target = _qualified(module, node.args[0])
                if target in classes and classes[target] != here:
                    yield name, target
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                for table in SQL_WRITE.findall(node.value):
                    if table in tables and tables[table] != here:
                        yield name, table


def unallowed_writes(modules: dict[str, Module]) -> list[str]:
    classes, tables = model_owners(modules)
    return sorted(
        {
            f"{name} writes {target}"
            for name, target in foreign_writes(modules, classes, tables)
            if (name, target.rsplit(".", 1)[-1]) not in WRITE_ALLOWED
        }
    )


# --- Rule 3 --------------------------------------------------------------------------------------------------------

POLICY = f"{PACKAGE}.authz.policy"


def policy_predicates(modules: dict[str, Module]) -> frozenset[str]:
    return frozenset(
        f"{POLICY}.{node.name}"
        for node in modules[POLICY].tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    )


def policy_calls(modules: dict[str, Module], predicates: Iterable[str]) -> Iterator[str]:
    wanted = frozenset(predicates)
    for name, module in modules.items():
        if name == f"{PACKAGE}.authz" or name.startswith(f"{PACKAGE}.authz."):
            continue
        for node in ast.walk(module.tree):
            if isinstance(node, ast.Call) and _qualified(module, node.func) in wanted:
                yield f"{name}:{node.lineno} calls {_qualified(module, node.func)}"


# --- Rules 4 and 5 ------------------------------------------------------------------------------------------------

FOUNDATIONS = (f"{PACKAGE}.kit", f"{PACKAGE}.db")
NOT_DOMAINS = frozenset({"kit", "db", "config", "enums", "kept_secrets", "migrations", "models", "app", "cli"})


def misplaced_routers(modules: dict[str, Module]) -> Iterator[str]:
    """Modules outside `router.py` / `routers/` that build an APIRouter."""
    for name, module in modules.items():
        if name == f"{PACKAGE}.kit.routing" or is_http_layer(name):
            continue
        for node in ast.walk(module.tree):
            if isinstance(node, ast.Call) and (_qualified(module, node.func) or "").endswith(".APIRouter"):
                yield f"{name}:{node.lineno} builds an APIRouter"


def _runtime_imports(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import that runs, at module level or in a function: all but those under `if TYPE_CHECKING:`."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and isinstance(child.test, ast.Name) and child.test.id == "TYPE_CHECKING":
            for other in child.orelse:
                yield from _runtime_imports(other)
            continue
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child
        yield from _runtime_imports(child)


def foundation_imports(modules: dict[str, Module]) -> Iterator[str]:
    for name, module in modules.items():
        if not name.startswith(FOUNDATIONS):
            continue
        for node in _runtime_imports(module.tree):
            targets = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for target in targets:
                parts = target.split(".")
                if parts[0] == PACKAGE and len(parts) > 1 and parts[1] not in NOT_DOMAINS:
                    yield f"{name} imports {target}"


# --- The real tree -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def source() -> dict[str, Module]:
    return load_source_tree()


def test_the_tree_is_read(source: dict[str, Module]) -> None:
    # A vacuous pass (nothing found to check) would look like a clean tree.
    assert len(source) > 100
    assert sum(is_http_layer(n) for n in source) > 20
    classes, tables = model_owners(source)
    assert len(classes) > 20
    assert {"users", "refresh_tokens", "user_university_roles"} <= tables.keys()
    assert len(policy_predicates(source)) > 20


def test_only_the_http_layer_imports_routers_and_dependencies(source: dict[str, Module]) -> None:
    assert list(http_imports(source)) == []


def test_domains_write_only_their_own_tables(source: dict[str, Module]) -> None:
    assert unallowed_writes(source) == []


def test_policy_predicates_are_called_only_inside_authz(source: dict[str, Module]) -> None:
    assert list(policy_calls(source, policy_predicates(source))) == []


def test_routes_live_in_router_modules(source: dict[str, Module]) -> None:
    assert list(misplaced_routers(source)) == []
    assert not [name for name in source if name.rsplit(".", 1)[-1].endswith(("_router", "_service"))]


def test_kit_and_db_import_no_domain_when_they_run(source: dict[str, Module]) -> None:
    assert list(foundation_imports(source)) == []


def test_a_router_built_outside_a_router_module_is_flagged() -> None:
    bad = parse("twosigma.kit.metrics", "from twosigma.kit.routing import APIRouter\nrouter = APIRouter()\n")
    good = parse("twosigma.courses.routers.offerings", "from twosigma.kit.routing import APIRouter\nr = APIRouter()\n")
    assert list(misplaced_routers({"twosigma.kit.metrics": bad})) == ["twosigma.kit.metrics:2 builds an APIRouter"]
    assert list(misplaced_routers({"twosigma.courses.routers.offerings": good})) == []


def test_a_foundation_importing_a_domain_is_flagged_unless_for_type_checking() -> None:
    bad = parse("twosigma.kit.metrics", "def f():\n    from twosigma.authz.metrics import check\n")
    typed = parse(
        "twosigma.kit.state",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from twosigma.prompts.cache import PromptCache\n",
    )
    assert list(foundation_imports({"twosigma.kit.metrics": bad})) == [
        "twosigma.kit.metrics imports twosigma.authz.metrics"
    ]
    assert list(foundation_imports({"twosigma.kit.state": typed})) == []


# --- Each rule fails on a module that breaks it --------------------------------------------------------------------

_MODELS = {
    "twosigma.auth.models": "class RefreshToken(Base):\n    __tablename__ = 'refresh_tokens'\n",
    "twosigma.tenancy.models": "class UserUniversityRole(Base):\n    __tablename__ = 'user_university_roles'\n",
    "twosigma.authz.policy": "def is_staff(p, u):\n    return True\n\ndef ensure(ok, p, u):\n    pass\n",
    "twosigma.content.dependencies": "async def get_readable_item(): ...\n",
    "twosigma.courses.routers.courses": "router = None\n",
}


def _synthetic(**sources: str) -> dict[str, Module]:
    return {name: parse(name, text) for name, text in {**_MODELS, **sources}.items()}


@pytest.mark.parametrize(
    "source",
    [
        "from twosigma.content.dependencies import get_readable_item\n",
        "from twosigma.content import dependencies\n",
        "import twosigma.courses.routers.courses\n",
        "async def f():\n    from twosigma.content.dependencies import get_readable_item\n",
    ],
)
def test_a_service_importing_the_http_layer_is_flagged(source: str) -> None:
    modules = _synthetic(**{"twosigma.tutor.service": source})
    assert list(http_imports(modules)) != []


def test_the_http_layer_may_import_the_http_layer() -> None:
    modules = _synthetic(**{"twosigma.tutor.dependencies": "from twosigma.content.dependencies import x\n"})
    assert list(http_imports(modules)) == []


@pytest.mark.parametrize(
    "source",
    [
        "from sqlalchemy import update\nfrom twosigma.auth.models import RefreshToken\n"
        "async def f(s):\n    await s.execute(update(RefreshToken).values(revoked_at=None))\n",
        "import sqlalchemy as sa\nfrom twosigma.auth import models\n"
        "async def f(s):\n    await s.execute(sa.delete(models.RefreshToken))\n",
        "from sqlalchemy.dialects.postgresql import insert\nfrom twosigma.tenancy.models import UserUniversityRole\n"
        "stmt = insert(UserUniversityRole).values(user_id=1)\n",
        "from twosigma.tenancy.models import UserUniversityRole\n"
        "def f(s):\n    s.add(UserUniversityRole(user_id=1, university_id=1))\n",
        "from sqlalchemy import text\nQ = text('UPDATE refresh_tokens SET revoked_at = now()')\n",
    ],
)
def test_a_write_to_another_domains_table_is_flagged(source: str) -> None:
    modules = _synthetic(**{"twosigma.users.platform_admin": source})
    assert unallowed_writes(modules) != []


def test_a_domain_writing_its_own_table_or_reading_another_is_not_flagged() -> None:
    modules = _synthetic(
        **{
            "twosigma.auth.repository": "from sqlalchemy import update\nfrom twosigma.auth.models import RefreshToken\n"
            "stmt = update(RefreshToken)\n",
            "twosigma.users.service": "from sqlalchemy import select\nfrom twosigma.auth.models import RefreshToken\n"
            "stmt = select(RefreshToken)\n",
        }
    )
    assert unallowed_writes(modules) == []


@pytest.mark.parametrize(
    "source",
    [
        "from twosigma.authz.policy import is_staff\ndef f(p):\n    return is_staff(p, 1)\n",
        "from twosigma.authz import policy\ndef f(p):\n    policy.ensure(False, p, 1)\n",
        "import twosigma.authz.policy\ndef f(p):\n    return twosigma.authz.policy.is_staff(p, 1)\n",
    ],
)
def test_a_policy_predicate_called_outside_authz_is_flagged(source: str) -> None:
    modules = _synthetic(**{"twosigma.courses.services.courses": source})
    assert list(policy_calls(modules, policy_predicates(modules))) != []


def test_authz_may_call_its_own_predicates() -> None:
    modules = _synthetic(
        **{"twosigma.authz.access.courses": "from twosigma.authz.policy import is_staff\nis_staff(None, 1)\n"}
    )
    assert list(policy_calls(modules, policy_predicates(modules))) == []
