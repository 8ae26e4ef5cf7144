"""No import circles in src/twosigma, read from the source with `ast` (nothing is imported).

Three graphs, one rule each:

- Module level (what runs when a module is imported): no cycle. Imports under `if TYPE_CHECKING:` and imports inside
  functions are left out: neither runs at import time.
- The ORM models (`twosigma.<domain>.models`), with their `TYPE_CHECKING` imports: no cycle. A relationship goes
  from the row holding the foreign key to the row it references; the other direction is added only where it is used,
  so the model modules form a tree a reader can follow one way.
- Everything, function-local imports included: no cycle. A function-local import that closes a circle hides it
  rather than removes it; the CLI's command modules import their work lazily (so `twosigma --help` stays cheap) and
  must still never import back: the root `twosigma.cli` registers the groups, the groups never import it.

An edge `a -> b` is `import b` or `from b import x` in `a` (and `a -> b.x` when `b.x` is a module of the package).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = SRC / "twosigma"

Graph = dict[str, set[str]]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.Module, *, type_checking: bool, function_local: bool) -> set[str]:
    found: set[str] = set()

    def visit(nodes: Iterable[ast.AST], in_function: bool) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and _is_type_checking(node) and not type_checking:
                visit(node.orelse, in_function)
                continue
            if isinstance(node, ast.Import) and (function_local or not in_function):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and (function_local or not in_function):
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
            nested = in_function or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            visit(ast.iter_child_nodes(node), nested)

    visit(tree.body, False)
    return found


def import_graph(modules: Iterable[str], *, type_checking: bool, function_local: bool) -> Graph:
    graph: Graph = {}
    for name in modules:
        tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
        imported = _imports(tree, type_checking=type_checking, function_local=function_local)
        graph[name] = {target for target in imported if target in MODULES and target != name}
    return graph


def cycles(graph: Graph) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted, for the message."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in graph:
                continue
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def model_modules() -> Iterator[str]:
    return (name for name in MODULES if name.endswith(".models") and name.count(".") == 2)


class TestTheCheckItself:
    def test_it_finds_a_cycle_and_ignores_what_is_outside_the_graph(self) -> None:
        graph: Graph = {"a": {"b"}, "b": {"c", "elsewhere"}, "c": {"a"}, "d": {"a"}}
        assert cycles(graph) == [["a", "b", "c"]]
        assert cycles({"a": {"b"}, "b": set()}) == []

    def test_it_reads_type_checking_and_function_local_imports_only_when_asked(self) -> None:
        tree = ast.parse(
            "from typing import TYPE_CHECKING\n"
            "import twosigma.config\n"
            "if TYPE_CHECKING:\n"
            "    from twosigma.users.models import User\n"
            "def f() -> None:\n"
            "    from twosigma.db import bootstrap\n"
        )
        assert _imports(tree, type_checking=False, function_local=False) == {
            "typing",
            "typing.TYPE_CHECKING",
            "twosigma.config",
        }
        assert "twosigma.users.models" in _imports(tree, type_checking=True, function_local=False)
        assert "twosigma.db.bootstrap" in _imports(tree, type_checking=False, function_local=True)

    def test_the_package_and_its_model_modules_are_found(self) -> None:
        assert "twosigma.cli" in MODULES
        assert {"twosigma.users.models", "twosigma.courses.models", "twosigma.tutor.models"} <= set(model_modules())


class TestNoImportCircles:
    def test_no_cycle_among_modules_at_import_time(self) -> None:
        graph = import_graph(MODULES, type_checking=False, function_local=False)
        assert cycles(graph) == []

    def test_no_cycle_among_the_orm_model_modules_even_for_the_type_checker(self) -> None:
        graph = import_graph(model_modules(), type_checking=True, function_local=False)
        assert cycles(graph) == []

    def test_no_cycle_even_through_function_local_imports(self) -> None:
        graph = import_graph(MODULES, type_checking=False, function_local=True)
        assert cycles(graph) == []

    def test_nothing_imports_the_root_cli_but_the_entry_point(self) -> None:
        graph = import_graph(MODULES, type_checking=True, function_local=True)
        importers = {name for name, targets in graph.items() if "twosigma.cli" in targets}
        assert importers == {"twosigma.__main__"}
