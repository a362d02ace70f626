"""The layering rule, read from the code: who imports whom inside ``functions/chalicelib``.

``import_graph`` parses every module with ``ast`` (nothing is imported) and lists each
module's imports: at the top, inside functions, under ``if TYPE_CHECKING:`` and the modules
named by ``lazy_module("...")``. Each rule is then one assertion over that graph.
"""

from __future__ import annotations

import ast
import itertools
from dataclasses import dataclass
from functools import cache
from pathlib import Path

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
CHALICELIB = FUNCTIONS / "chalicelib"
# What every feature may import: the shared kernel and the HTTP pipeline.
SHARED = frozenset(("core", "api"))
# Imports that close a cycle this test found when it was written, left to be broken by their
# features' owners. Each must still exist (the test says when one is gone: drop it here),
# and no other import may close a cycle.
KNOWN_CYCLE_IMPORTS = {
    # users -> follows -> users (follows' repositories read and count users), and
    # users -> follows -> notifications -> users: a profile's relationship to its viewer.
    "chalicelib.users.service -> chalicelib.follows.repository",
    # follows -> posts -> follows (posts' visibility reads follow edges and blocks): who may
    # see an account's lists is decided as for its posts.
    "chalicelib.follows.service -> chalicelib.posts.visibility",
}


@dataclass(frozen=True)
class Import:
    """One import of ``target`` (a dotted module name) by a module, at ``line``.

    ``how`` is ``"top"`` (run when the module is imported), ``"function"`` (inside a
    function or method: run when it is called), ``"type_checking"`` (under
    ``if TYPE_CHECKING:``: for the type checker only) or ``"lazy"`` (a ``lazy_module``
    string: imported by its first use).
    """

    target: str
    line: int
    how: str


def module_name(path: Path) -> str:
    parts = path.relative_to(FUNCTIONS).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def own_modules() -> frozenset[str]:
    return frozenset(module_name(path) for path in CHALICELIB.rglob("*.py"))


def imports_in(
    source: str, module: str, known: frozenset[str], is_package: bool = False
) -> list[Import]:
    """The imports of ``module`` (whose text is ``source``; an ``__init__.py`` when
    ``is_package``). ``from package import name`` is an import of ``package.name`` when that
    is a module in ``known``, and of ``package`` otherwise."""
    package = module if is_package else module.rpartition(".")[0]
    found: list[Import] = []

    def visit(node: ast.AST, how: str) -> None:
        if isinstance(node, ast.Import):
            found.extend(Import(alias.name, node.lineno, how) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package, up ``level - 1`` packages
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            modules = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in known]
            if len(modules) < len(node.names):  # some names are the package's, not modules
                found.append(Import(base, node.lineno, how))
            found.extend(Import(name, node.lineno, how) for name in modules)
        elif (
            isinstance(node, ast.Call)
            and _called_name(node.func) == "lazy_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append(Import(node.args[0].value, node.lineno, "lazy"))
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for statement in node.body:
                visit(statement, "type_checking")
            for statement in node.orelse:
                visit(statement, how)
            return
        inner = (
            "function"
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            else how
        )
        for child in ast.iter_child_nodes(node):
            visit(child, inner)

    visit(ast.parse(source), "top")
    return found


def _called_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _is_type_checking(test: ast.expr) -> bool:
    return _called_name(test) == "TYPE_CHECKING"


@cache
def import_graph() -> dict[str, tuple[Import, ...]]:
    """Every module of ``chalicelib`` and its imports (of any module, ours or not)."""
    return {
        module_name(path): tuple(
            imports_in(
                path.read_text(),
                module_name(path),
                own_modules(),
                is_package=path.name == "__init__.py",
            )
        )
        for path in sorted(CHALICELIB.rglob("*.py"))
    }


def is_repository(module: str) -> bool:
    """A data layer: ``<feature>/repository.py`` or ``<feature>/<family>_repository.py``."""
    name = module.rpartition(".")[2]
    return name == "repository" or name.endswith("_repository")


def is_service(module: str) -> bool:
    """A feature's service: ``chalicelib.<feature>.service``."""
    parts = module.split(".")
    return len(parts) == 3 and parts[0] == "chalicelib" and parts[2] == "service"


# The rules ------------------------------------------------------------------------------


def test_no_repository_imports_a_service() -> None:
    # The data layers only call down (core, domain, other repositories): a repository that
    # needs a rule of a feature reaches its domain or its repository, never its service.
    offenders = [
        f"{module}:{imported.line} imports {imported.target} ({imported.how})"
        for module, imports in import_graph().items()
        if is_repository(module)
        for imported in imports
        if is_service(imported.target)
    ]
    assert offenders == []


# Between features ------------------------------------------------------------------------


def _feature(module: str) -> str | None:
    """``chalicelib.<feature>`` of a module name; None outside ``chalicelib``."""
    parts = module.split(".")
    return parts[1] if parts[0] == "chalicelib" and len(parts) > 1 else None


def feature_import_graph() -> dict[str, dict[str, list[str]]]:
    """feature -> features it imports -> the imports that make that edge (``a -> b``)."""
    graph: dict[str, dict[str, list[str]]] = {}
    for module, imports in import_graph().items():
        importer = _feature(module)
        if importer is None or importer in SHARED:
            continue
        graph.setdefault(importer, {})
        for imported in imports:
            target = _feature(imported.target)
            if target is None or target == importer or target in SHARED:
                continue
            edge = f"{module} -> {imported.target}"
            edges = graph[importer].setdefault(target, [])
            if edge not in edges:
                edges.append(edge)
    return graph


def find_cycle(graph: dict[str, dict[str, list[str]]]) -> list[str] | None:
    """One cycle of the graph as its nodes, first one repeated last; None when acyclic."""
    done: set[str] = set()
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return None
        path.append(node)
        for target in sorted(graph.get(node, {})):
            cycle = visit(target)
            if cycle is not None:
                return cycle
        path.pop()
        done.add(node)
        return None

    for node in sorted(graph):
        cycle = visit(node)
        if cycle is not None:
            return cycle
    return None


def describe(graph: dict[str, dict[str, list[str]]], cycle: list[str]) -> str:
    lines = [" -> ".join(cycle)]
    for importer, imported in itertools.pairwise(cycle):
        lines += [f"  {importer} -> {imported}:", *(f"    {i}" for i in graph[importer][imported])]
    return "\n".join(lines)


def without(
    graph: dict[str, dict[str, list[str]]], imports: set[str]
) -> dict[str, dict[str, list[str]]]:
    """The graph less the edges that only ``imports`` make."""
    pruned: dict[str, dict[str, list[str]]] = {}
    for importer, targets in graph.items():
        pruned[importer] = {}
        for target, edges in targets.items():
            kept = [edge for edge in edges if edge not in imports]
            if kept:
                pruned[importer][target] = kept
    return pruned


def test_no_import_cycle_between_feature_packages() -> None:
    graph = feature_import_graph()
    assert {"posts", "feed", "stories", "fanout", "messages", "websocket"} <= graph.keys()
    every_import = {
        edge for targets in graph.values() for edges in targets.values() for edge in edges
    }
    assert sorted(KNOWN_CYCLE_IMPORTS - every_import) == [], (
        "gone: drop it from KNOWN_CYCLE_IMPORTS"
    )
    pruned = without(graph, KNOWN_CYCLE_IMPORTS)
    cycle = find_cycle(pruned)
    assert cycle is None, "feature packages import each other in a cycle:\n" + describe(
        pruned, cycle
    )


def test_the_cycle_finder_reports_the_imports_of_a_cycle() -> None:
    graph = {
        "feed": {"stories": ["chalicelib.feed.fanout -> chalicelib.stories.repository"]},
        "stories": {"feed": ["chalicelib.stories.consumers -> chalicelib.feed.fanout"]},
        "posts": {"feed": ["chalicelib.posts.x -> chalicelib.feed.y"]},
    }
    cycle = find_cycle(graph)
    assert cycle == ["feed", "stories", "feed"]
    assert describe(graph, cycle).splitlines() == [
        "feed -> stories -> feed",
        "  feed -> stories:",
        "    chalicelib.feed.fanout -> chalicelib.stories.repository",
        "  stories -> feed:",
        "    chalicelib.stories.consumers -> chalicelib.feed.fanout",
    ]
    assert (
        find_cycle(without(graph, {"chalicelib.stories.consumers -> chalicelib.feed.fanout"}))
        is None
    )


def _lazy_target(node: ast.AST) -> str | None:
    """``"m"`` of a ``lazy_module("m")`` call; None for anything else."""
    if (
        isinstance(node, ast.Call)
        and _called_name(node.func) == "lazy_module"
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ):
        return node.args[0].value
    return None


def _bound_modules(statements: list[ast.stmt]) -> dict[str, str]:
    """name -> the module it is bound to, by the imports among ``statements``."""
    bound: dict[str, str] = {}
    for statement in statements:
        if isinstance(statement, ast.Import):
            bound |= {alias.asname: alias.name for alias in statement.names if alias.asname}
        elif isinstance(statement, ast.ImportFrom) and statement.module and not statement.level:
            for alias in statement.names:
                bound[alias.asname or alias.name] = f"{statement.module}.{alias.name}"
    return bound


def test_every_lazy_module_is_typed_as_the_module_it_names() -> None:
    """``name = lazy_module("m")`` stands in the ``else`` of an ``if TYPE_CHECKING:`` that
    imports ``m`` as ``name``: editors and mypy follow the import, and the two cannot drift."""
    untyped, typed = [], 0
    for path in sorted(CHALICELIB.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        checked: set[int] = set()
        for node in ast.walk(tree):
            if not (isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"):
                continue
            imported = _bound_modules(node.body)
            for statement in node.orelse:
                if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1):
                    continue
                target, name = _lazy_target(statement.value), statement.targets[0]
                if target is not None and isinstance(name, ast.Name):
                    checked.add(id(statement.value))
                    if imported.get(name.id) == target:
                        typed += 1
                    else:
                        untyped.append(f"{path.name}: {name.id} = lazy_module({target!r})")
        untyped += [
            f"{path.relative_to(CHALICELIB)}:{node.lineno}: lazy_module({_lazy_target(node)!r})"
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            and _lazy_target(node) is not None
            and id(node) not in checked
        ]
    assert typed >= 50, "expected the routes' and handlers' lazy modules"
    assert untyped == []


# The reader itself ----------------------------------------------------------------------


def test_the_graph_covers_every_feature_and_finds_each_kind_of_import() -> None:
    graph = import_graph()
    assert {"chalicelib.posts.repository", "chalicelib.limits.repository"} <= graph.keys()
    posts_repository = {imported.target for imported in graph["chalicelib.posts.repository"]}
    # from chalicelib.media import repository as media
    assert "chalicelib.media.repository" in posts_repository
    routes = {(i.target, i.how) for i in graph["chalicelib.posts.routes"]}
    assert ("chalicelib.posts.service", "lazy") in routes
    assert ("chalicelib.posts.service", "type_checking") in routes
    media_service = {(i.target, i.how) for i in graph["chalicelib.media.service"]}
    assert ("chalicelib.media.imaging", "function") in media_service


def test_the_rule_sees_a_service_imported_in_any_of_the_ways() -> None:
    known = frozenset({"chalicelib.limits.service", "chalicelib.limits", "chalicelib.posts"})
    source = (
        "from typing import TYPE_CHECKING\n"
        "from chalicelib.limits import service as limits\n"
        "import chalicelib.limits.service\n"
        "if TYPE_CHECKING:\n"
        "    from chalicelib.limits.service import state\n"
        "def charge():\n"
        "    from chalicelib.limits import service\n"
        "later = lazy_module('chalicelib.limits.service')\n"
        "from .. import limits\n"
    )
    found = imports_in(source, "chalicelib.posts.repository", known)
    services = sorted((i.line, i.how) for i in found if is_service(i.target))
    assert services == [(2, "top"), (3, "top"), (5, "type_checking"), (7, "function"), (8, "lazy")]
    assert Import("chalicelib.limits", 9, "top") in found  # relative, resolved
    assert is_repository("chalicelib.follows.blocks_repository")
    assert not is_repository("chalicelib.posts.service")
