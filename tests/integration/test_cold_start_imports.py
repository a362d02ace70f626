"""Cold starts: ``import app`` (every function's Lambda init) loads only what init needs.

Route and handler modules reach services, schemas, repositories and the heavy libraries
through ``chalicelib.core.lazy.lazy_module``, imported by the first call that uses them.
These tests guard that rule by behaviour, not timing (``make bench BENCH=imports`` times it).
"""

from __future__ import annotations

import ast
import importlib
import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.benchmarks.imports import stage_environment
from tests.support import import_app_modules

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
# Loaded by the first call that needs them, never at init. boto3, Chalice and the stdlib
# are what init is left with.
NOT_AT_INIT = (
    "pydantic",
    "pydantic_core",
    "pydantic_settings",
    "pynamodb",
    "jwt",
    "cryptography",
    "aws_lambda_powertools",
    "PIL",
    "pillow_heif",
    "opensearchpy",
    "aws_xray_sdk",
)
HANDLERS = (
    "app",
    "connect",
    "message",
    "disconnect",
    "process_upload",
    "users_stream",
    "follows_stream",
    "posts_stream",
    "likes_stream",
    "comments_stream",
    "stories_stream",
    "media_stream",
    "fanout_worker",
    "sweep_stories",
    "sweep_unconfirmed_signups",
)


def import_app_in_a_fresh_process() -> dict:
    probe = (
        "import json, sys\n"
        f"sys.path.insert(0, {str(FUNCTIONS)!r})\n"
        "import app\n"
        f"missing = [h for h in {HANDLERS!r} if not callable(getattr(app, h, None))]\n"
        "print(json.dumps({'modules': sorted(sys.modules), 'missing': missing}))\n"
    )
    environment = {"PATH": os.environ.get("PATH", ""), **stage_environment()}
    result = subprocess.run(  # noqa: S603 - our interpreter, our code
        [sys.executable, "-c", probe],
        cwd=FUNCTIONS,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_importing_app_loads_none_of_the_heavy_packages() -> None:
    loaded = import_app_in_a_fresh_process()
    assert loaded["missing"] == []
    top_level = {name.partition(".")[0] for name in loaded["modules"]}
    assert sorted(top_level & set(NOT_AT_INIT)) == []
    # Nor the app's own services, repositories or schemas: only routes, handlers and the
    # light modules they need at init.
    heavy_own = [
        name
        for name in loaded["modules"]
        if name.startswith("chalicelib.")
        and name.endswith(("service", "schemas", "repository", "settings", "tokens"))
    ]
    assert heavy_own == []


def lazy_references() -> list[tuple[str, str, str]]:
    """``(module, proxy's module name, attribute)`` for each ``proxy.attribute`` in the app,
    where ``proxy = lazy_module("...")`` at the top of that module (or in the ``else`` of its
    ``if TYPE_CHECKING:``, which imports the module itself for the type checker)."""
    found = []
    for path in sorted((FUNCTIONS / "chalicelib").rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        top = [*tree.body, *(n for s in tree.body if isinstance(s, ast.If) for n in s.orelse)]
        proxies = {
            node.targets[0].id: node.value.args[0].value
            for node in top
            if isinstance(node, ast.Assign)
            and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Name)
            and node.value.func.id == "lazy_module"
            and isinstance(node.value.args[0], ast.Constant)
            and isinstance(node.value.args[0].value, str)
        }
        module = ".".join(path.relative_to(FUNCTIONS).with_suffix("").parts)
        found += [
            (module, proxies[node.value.id], node.attr)
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in proxies
        ]
    return found


def test_every_lazy_reference_names_a_module_and_an_attribute_it_has() -> None:
    # A misspelt name behind lazy_module fails only when that code first runs; catch it here.
    references = lazy_references()
    assert len({r[0] for r in references}) >= 15, "expected the routes and handlers"
    import_app_modules()
    wrong = [
        (module, f"{target}.{attribute}")
        for module, target, attribute in references
        if not hasattr(importlib.import_module(target), attribute)
    ]
    assert wrong == []


@pytest.fixture
def log_lines():  # type: ignore[no-untyped-def]
    """What the app's Powertools logger writes, one JSON object per line."""
    from chalicelib.core.observability import logger

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        logger.removeHandler(handler)


def test_logs_carry_each_invocations_lambda_context(log_lines) -> None:  # type: ignore[no-untyped-def]
    # The logger is made on first use; the middleware still injects each invocation's
    # context and clears the previous one's keys.
    from chalice import Chalice
    from chalice.test import Client
    from chalicelib.core.observability import logger, metrics, register_observability

    probe = Chalice(app_name="probe")

    @probe.route("/probe/{n}")
    def logged(n: str) -> dict:
        if n == "1":
            logger.append_keys(only_first="yes")
        logger.info("probed", n=n)
        metrics.add_metric(name="Probed", unit="Count", value=1)
        return {}

    register_observability(probe)
    with Client(probe) as client:
        assert client.http.get("/probe/1").status_code == 200
        assert client.http.get("/probe/2").status_code == 200

    first, second = (line for line in log_lines() if line.get("message") == "probed")
    for line, n in ((first, "1"), (second, "2")):
        assert line["n"] == n
        assert line["function_name"] and line["function_request_id"]
        assert line["service"] == "shutter"
    assert first["function_request_id"] != second["function_request_id"]
    assert first["only_first"] == "yes" and "only_first" not in second
