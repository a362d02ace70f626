"""Cold starts: what each function imports at init, and what it carries.

Each function runs from the package ``make deploy`` builds (``infrastructure/packaging.py``:
compiled bytecode, no boto3, no layer's packages), laid out as Lambda unpacks it in
``/var/task``, with the layers attached to that function (``infrastructure.deploy.LAYERS``)
and boto3 as the python3.12 runtime provides it, and nothing else (``python -S``: not this
virtualenv). In a fresh process per run it imports its handler's module, as Lambda's init
does (every function's is ``app``: Lambda must run app.py for the middleware), with the
environment a deployed stage has. Baseline: ``import boto3`` alone, interleaved in the same
runs. Reported per function: median import time, which optional heavy packages the import
loaded, and the unzipped size the function carries (package + layers).

Goals: the REST function's import within 1.5x of ``import boto3``'s; no function loads
Pillow, opensearch-py or the X-Ray SDK at init (they are imported where they are used).

Run with ``python -m tests.benchmarks imports``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from infrastructure.deploy import LAYERS
from infrastructure.iam import function_names
from infrastructure.packaging import (
    build_dependencies,
    build_layer_cached,
    folder_size,
    function_requirements,
    lay_out_package,
    stage_project,
)
from infrastructure.resources import STACK
from layers.build import LAYERS_DIR, RUNTIME_PROVIDED

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / ".deploy" / "cache"
RUNS = 9
GOAL_REST_VS_BOTO3 = 1.5
# Imported only where used: none may load when a function starts.
NEVER_AT_INIT = ("PIL", "pillow_heif", "opensearchpy", "aws_xray_sdk")
REPORTED = (*NEVER_AT_INIT, "cryptography", "pydantic", "pynamodb")
# The top-level modules of what the runtime provides (RUNTIME_PROVIDED's distributions).
RUNTIME_MODULES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")

_CHILD = """
import json, sys, time
sys.path[:0] = {paths!r}
started = time.perf_counter()
import {module}
elapsed = time.perf_counter() - started
{check}
print(json.dumps({{"seconds": elapsed, "loaded": [m for m in {reported!r} if m in sys.modules]}}))
"""


def stage_environment() -> dict[str, str]:
    """What a deployed function's environment holds (names only; nothing is called)."""
    environment = {
        "STAGE": "bench",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "shutter",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "CURSOR_SECRET": "x" * 32,
        "USER_POOL_ID": "us-east-1_bench",
        "USER_POOL_CLIENT_ID": "bench",
        "WEBSOCKET_API_ID": "bench",
        "WEBSOCKET_STAGE": "api",
    }
    for table in STACK.tables:
        environment[table.env_var] = f"shutter-bench-{table.family}"
        if table.stream:
            environment[table.stream_env_var] = (
                f"arn:aws:dynamodb:us-east-1:123456789012:table/shutter-bench-{table.family}"
                "/stream/2026-01-01T00:00:00.000"
            )
    for bucket in STACK.buckets:
        environment[bucket.env_var] = f"shutter-bench-{bucket.family}"
    for queue in STACK.queues:
        environment[queue.env_var] = f"shutter-bench-{queue.family}"
        environment[f"{queue.env_var}_URL"] = (
            f"https://sqs/123456789012/shutter-bench-{queue.family}"
        )
    return environment


def prepare(workdir: Path) -> tuple[Path, dict[str, Path], Path]:
    """The unpacked package, each layer's ``python/`` folder, and the runtime's boto3."""
    dependencies = build_dependencies(
        function_requirements(
            REPO / "requirements.txt", [LAYERS_DIR / n / "requirements.txt" for n in LAYERS]
        ),
        CACHE,
    )
    config = {"version": "2.0", "app_name": "shutter", "stages": {}}
    staged = stage_project(
        REPO / "functions", workdir / "staged", dependencies, config, {}, link_deployed=False
    )
    task = lay_out_package(staged, workdir / "task")
    layers = {}
    for name in LAYERS:
        with zipfile.ZipFile(build_layer_cached(name, CACHE)) as archive:
            archive.extractall(workdir / "layers" / name)
        layers[name] = workdir / "layers" / name / "python"
    runtime = workdir / "runtime"
    runtime.mkdir()
    assert len(RUNTIME_MODULES) == len(RUNTIME_PROVIDED)
    for module in RUNTIME_MODULES:
        spec = importlib.util.find_spec(module)
        assert spec is not None and spec.origin is not None, module
        origin = Path(spec.origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        (runtime / source.name).symlink_to(source)
    return task, layers, runtime


def time_import(module: str, paths: list[Path], check: str = "") -> dict:
    script = _CHILD.format(
        paths=[str(p) for p in paths], module=module, check=check, reported=REPORTED
    )
    environment = {"PATH": os.environ.get("PATH", ""), **stage_environment()}
    result = subprocess.run(  # noqa: S603 - our interpreter, our script
        [sys.executable, "-E", "-S", "-c", script],
        cwd=paths[0],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"import {module} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout)


def handler_attribute(function: str) -> str:
    return {
        "api_handler": "app",
        "websocket_connect": "connect",
        "websocket_message": "message",
        "websocket_disconnect": "disconnect",
    }.get(function, function)


def run() -> bool:
    with tempfile.TemporaryDirectory() as scratch:
        task, layer_paths, runtime = prepare(Path(scratch))
        package_size = folder_size(task)
        layer_sizes = {name: folder_size(path) for name, path in layer_paths.items()}

        def layers_of(function: str) -> tuple[str, ...]:
            return tuple(name for name, users in LAYERS.items() if function in users)

        functions = function_names()
        configurations = sorted({layers_of(f) for f in functions})
        samples: dict[tuple[str, ...] | None, list[float]] = {None: []}
        loaded: dict[tuple[str, ...], list[str]] = {}
        for layers in configurations:
            samples[layers] = []
        for _ in range(RUNS):
            samples[None].append(time_import("boto3", [runtime])["seconds"])
            for layers in configurations:
                users = [f for f in functions if layers_of(f) == layers]
                check = "\n".join(f"assert callable(app.{handler_attribute(f)})" for f in users)
                paths = [task, *(layer_paths[n] for n in layers), runtime]
                result = time_import("app", paths, check)
                samples[layers].append(result["seconds"])
                loaded[layers] = result["loaded"]

    boto3_ms = statistics.median(samples[None]) * 1000
    print(
        f"\nImports at init, fresh process, median of {RUNS} (each function's package, its "
        "layers and the runtime's boto3 only):"
    )
    print(f"{'function':22} {'import ms':>9} {'x boto3':>8} {'carries MB':>11}  layers; loaded")
    print(f"{'import boto3 alone':22} {boto3_ms:9.0f} {1.0:8.2f}")
    goals = []
    for function in functions:
        layers = layers_of(function)
        milliseconds = statistics.median(samples[layers]) * 1000
        carried = (package_size + sum(layer_sizes[n] for n in layers)) / 1e6
        print(
            f"{function:22} {milliseconds:9.0f} {milliseconds / boto3_ms:8.2f} {carried:11.1f}  "
            f"{', '.join(layers) or '-'}; {', '.join(loaded[layers]) or '-'}"
        )
        early = sorted(set(loaded[layers]) & set(NEVER_AT_INIT))
        goals.append((f"{function}: nothing of {', '.join(NEVER_AT_INIT)} at init", not early))
        if function == "api_handler":
            ratio = milliseconds / boto3_ms
            goals.append(
                (
                    f"REST import {ratio:.2f}x boto3's <= {GOAL_REST_VS_BOTO3}x",
                    ratio <= GOAL_REST_VS_BOTO3,
                )
            )
    print(
        f"\npackage (every function): {package_size / 1e6:.1f} MB unzipped; layers: "
        + ", ".join(f"{n} {s / 1e6:.1f} MB" for n, s in layer_sizes.items())
    )
    print("\nGoals:")
    for label, passed in goals:
        print(f"  {'PASS' if passed else 'FAIL'}  {label}")
    return all(passed for _, passed in goals)


if __name__ == "__main__":
    sys.exit(0 if run() else 1)
