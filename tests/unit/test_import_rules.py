"""The layering rule, read from the code: who imports whom inside ``functions/chalicelib``.

``import_graph`` parses every module with ``ast`` (nothing is imported) and lists each
module's imports: at the top, inside functions, under ``if TYPE_CHECKING:`` and the modules
named by ``lazy_module("...")``. Each rule is then one assertion over that graph.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
CHALICELIB = FUNCTIONS / "chalicelib"


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
    ``is_package``). ``from package import name`` counts as an import of ``package.name``
    too when that is a module in ``known``."""
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
            found.append(Import(base, node.lineno, how))
            found.extend(
                Import(f"{base}.{alias.name}", node.lineno, how)
                for alias in node.names
                if f"{base}.{alias.name}" in known
            )
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
