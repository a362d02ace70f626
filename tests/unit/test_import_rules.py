"""Import rules of ``functions/chalicelib``, read from the source with ``ast`` (nothing is
imported): what each module imports at its top, inside its functions, under
``TYPE_CHECKING``, and through ``lazy_module("...")``, which an import statement does not
show."""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator
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


def _module_name(path: Path) -> str:
    parts = path.relative_to(FUNCTIONS).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    path = FUNCTIONS.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _imported_names(module: str, path: Path, tree: ast.Module) -> Iterator[str]:
    """Every module name ``module`` imports, wherever in the file the import sits."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join([*parts[: len(parts) - node.level + 1], node.module or ""])
            else:
                base = node.module or ""
            # ``from chalicelib.posts import repository`` imports the module posts.repository.
            for alias in node.names:
                submodule = f"{base.rstrip('.')}.{alias.name}"
                yield submodule if _is_module(submodule) else base.rstrip(".")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "lazy_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.args[0].value


def _feature(module: str) -> str | None:
    """``chalicelib.<feature>`` of a module name; None outside ``chalicelib``."""
    parts = module.split(".")
    return parts[1] if parts[0] == "chalicelib" and len(parts) > 1 else None


def feature_import_graph() -> dict[str, dict[str, list[str]]]:
    """feature -> features it imports -> the imports that make that edge (``a -> b``)."""
    graph: dict[str, dict[str, list[str]]] = {}
    for path in sorted(CHALICELIB.rglob("*.py")):
        module = _module_name(path)
        importer = _feature(module)
        if importer is None or importer in SHARED:
            continue
        graph.setdefault(importer, {})
        tree = ast.parse(path.read_text(), filename=str(path))
        for imported in _imported_names(module, path, tree):
            target = _feature(imported)
            if target is None or target == importer or target in SHARED:
                continue
            edge = f"{module} -> {imported}"
            imports = graph[importer].setdefault(target, [])
            if edge not in imports:
                imports.append(edge)
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
        and isinstance(node.func, ast.Name)
        and node.func.id == "lazy_module"
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
