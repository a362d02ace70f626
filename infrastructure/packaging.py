"""The Chalice project ``chalice deploy`` packages: ``functions/``, staged with what Lambda needs.

Chalice zips ``app.py``, ``chalicelib/`` and ``vendor/`` into one package for every function,
and pip-installs ``requirements.txt`` into it. The staged project (``.deploy/<stage>/``,
git-ignored) differs from ``functions/`` in three ways:

- ``vendor/`` holds the runtime dependencies, built here from manylinux wheels for the
  Lambda runtime (as ``layers/build.py`` builds layers), without what the runtime already has
  (boto3 and its dependencies) and without what a layer brings to the functions that need
  it: Pillow (media layer) only for the resize function, cryptography (crypto layer) only
  for the two that verify tokens, opensearch-py (search layer) only for the three that
  search or index. Its ``requirements.txt`` is empty, so Chalice runs no pip of its own.
- Every module, ours and the dependencies', ships compiled bytecode. Lambda's ``/var/task`` is
  read-only: without ``.pyc`` files every cold start compiles every module it imports. They
  are unchecked-hash ``.pyc`` (a zip keeps no exact timestamps) and name ``/var/task/...``
  in tracebacks.
- ``.chalice/`` holds the stage's config (with its secret) and the rendered IAM policies;
  ``.chalice/deployed`` links to ``functions/.chalice/deployed``, where Chalice keeps what
  it deployed, so that state survives a fresh staging.

Dependencies are built once per set of requirements and cached (``.deploy/cache``).
"""

from __future__ import annotations

import hashlib
import json
import os
import py_compile
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import chalice
import chalice.app

from layers.build import (
    EXTENSION_TAG,
    LAYERS_DIR,
    PLATFORMS,
    RUNTIME,
    RUNTIME_PROVIDED,
    build_layer,
    check_extensions,
    compile_bytecode,
    install_wheels,
    remove_distribution,
    strip,
)

LAMBDA_TASK_ROOT = "/var/task"
# Bump when the way dependencies are built changes, so cached builds are not reused.
BUILD_VERSION = "2"

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def requirement_name(line: str) -> str | None:
    """The normalised distribution name a requirements line installs, or None."""
    line = line.split("#", 1)[0].strip()
    if not line or line.startswith("-"):
        return None
    match = _NAME.match(line)
    return re.sub(r"[-_.]+", "-", match[1]).lower() if match else None


def function_requirements(requirements: Path, layer_requirements: Iterable[Path]) -> list[str]:
    """The lines of ``requirements`` the function package installs: not what a layer brings
    (a layer must pin a package as ``requirements.txt`` does), nor what the runtime has."""
    pins = {requirement_name(line): _pin(line) for line in requirements.read_text().splitlines()}
    excluded = {requirement_name(name) for name in RUNTIME_PROVIDED}
    for path in layer_requirements:
        for line in path.read_text().splitlines():
            name = requirement_name(line)
            if name is None:
                continue
            if name in pins and pins[name] != _pin(line):
                raise ValueError(
                    f"{path} pins {_pin(line)!r} but {requirements.name} pins {pins[name]!r}"
                )
            excluded.add(name)
    return [pin for name, pin in pins.items() if name is not None and name not in excluded]


def _pin(line: str) -> str:
    return line.split("#", 1)[0].strip()


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def build_dependencies(lines: list[str], cache_dir: Path) -> Path:
    """``site-packages`` for the function package, built once per requirement set.

    Returns a folder to copy into ``vendor/``: the packages with their compiled bytecode, minus
    the distributions the runtime provides (pulled in by pynamodb and aws-xray-sdk).
    """
    key = _digest(BUILD_VERSION, EXTENSION_TAG, *PLATFORMS, *RUNTIME_PROVIDED, *sorted(lines))
    target = cache_dir / f"dependencies-{key}"
    if target.is_dir():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache_dir) as scratch:
        requirements = Path(scratch) / "requirements.txt"
        requirements.write_text("\n".join(lines) + "\n")
        site_packages = Path(scratch) / "site-packages"
        install_wheels(requirements, site_packages)
        for name in RUNTIME_PROVIDED:
            remove_distribution(site_packages, name)
        strip(site_packages)
        check_extensions(site_packages)
        compile_bytecode(site_packages, LAMBDA_TASK_ROOT)
        _publish(site_packages, target)
    return target


def build_layer_cached(name: str, cache_dir: Path) -> Path:
    """The zip of ``layers/<name>``, built by ``layers/build.py`` once per requirement set."""
    key = _digest(
        BUILD_VERSION, *RUNTIME_PROVIDED, (LAYERS_DIR / name / "requirements.txt").read_text()
    )
    target = cache_dir / f"layer-{name}-{key}"
    if not target.is_dir():
        cache_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=cache_dir) as scratch:
            archive = build_layer(name, Path(scratch) / "build")
            shutil.rmtree(archive.parent / "python")  # the zip is what gets published
            _publish(archive.parent, target)
    return target / f"{name}.zip"


def _publish(built: Path, target: Path) -> None:
    """Move a finished build into the cache in one step; a concurrent build of the same key
    that got there first wins, and this one is dropped."""
    try:
        built.rename(target)
    except OSError:
        if not target.is_dir():
            raise


@dataclass(frozen=True)
class StagedProject:
    path: Path

    @property
    def config_file(self) -> Path:
        return self.path / ".chalice" / "config.json"

    def package(self) -> Path | None:
        """The deployment package Chalice built last, if any."""
        packages = sorted(
            (self.path / ".chalice" / "deployments").glob("*.zip"), key=lambda p: p.stat().st_mtime
        )
        return packages[-1] if packages else None


def stage_project(
    functions_dir: Path,
    staging_dir: Path,
    dependencies: Path | None,
    config: dict[str, Any],
    policies: dict[str, dict[str, Any]],
    *,
    link_deployed: bool = True,
) -> StagedProject:
    """Write the Chalice project ``chalice deploy`` runs in.

    Parameters
    ----------
    functions_dir:
        ``functions/``: ``app.py``, ``chalicelib/`` and ``.chalice/deployed``.
    staging_dir:
        Replaced, except ``.chalice/deployments`` (Chalice's cache of built packages).
    dependencies:
        The folder :func:`build_dependencies` made; None stages no ``vendor/`` (enough for
        ``chalice delete``).
    config:
        The complete Chalice config of the stage being deployed.
    policies:
        Each function's rendered policy, written where ``iam_policy_file`` names it.
    link_deployed:
        Link ``.chalice/deployed`` to ``functions/.chalice/deployed`` (not needed to only
        look at the package).
    """
    chalice_dir = staging_dir / ".chalice"
    for entry in staging_dir.iterdir() if staging_dir.is_dir() else []:
        if entry.name != ".chalice":
            _remove(entry)
    for entry in chalice_dir.iterdir() if chalice_dir.is_dir() else []:
        if entry.name != "deployments":
            _remove(entry)
    chalice_dir.mkdir(parents=True, exist_ok=True)

    shutil.copy2(functions_dir / "app.py", staging_dir / "app.py")
    shutil.copytree(
        functions_dir / "chalicelib",
        staging_dir / "chalicelib",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    (staging_dir / "requirements.txt").write_text(
        "# Empty: the dependencies are prebuilt in vendor/ (infrastructure/packaging.py).\n"
    )
    vendor = staging_dir / "vendor"
    if dependencies is not None:
        shutil.copytree(
            dependencies,
            vendor,
            copy_function=_link_or_copy,
            ignore=shutil.ignore_patterns(".complete"),
        )
        _compile_app(staging_dir, vendor)

    if link_deployed:
        deployed = functions_dir / ".chalice" / "deployed"
        deployed.mkdir(parents=True, exist_ok=True)
        (chalice_dir / "deployed").symlink_to(deployed.resolve(), target_is_directory=True)
    config_file = chalice_dir / "config.json"
    config_file.touch(mode=0o600)  # it holds the stage's cursor secret
    config_file.write_text(json.dumps(config, indent=2) + "\n")
    for function, policy in policies.items():
        path = chalice_dir / _policy_file(config, function)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(policy, indent=2) + "\n")
    return StagedProject(staging_dir)


def _policy_file(config: dict[str, Any], function: str) -> str:
    functions = config.get("lambda_functions", {})
    try:
        return functions[function]["iam_policy_file"]
    except KeyError:
        raise KeyError(
            f"chalice.json names no iam_policy_file for {function}; every function needs one"
        ) from None


def _compile_app(staging_dir: Path, vendor: Path) -> None:
    """Bytecode for our code and the two Chalice modules Chalice puts in every package.

    ``chalicelib/`` is zipped as it is, so its ``__pycache__`` goes beside it; ``app.py``
    and ``chalice/`` sit at the zip's root, where only ``vendor/`` adds files, so theirs go
    into ``vendor/`` at the same relative place.
    """
    compile_bytecode(staging_dir / "chalicelib", f"{LAMBDA_TASK_ROOT}/chalicelib")
    sources = [
        (staging_dir / "app.py", Path("app.py")),
        (Path(chalice.__file__), Path("chalice/__init__.py")),
        (Path(chalice.app.__file__), Path("chalice/app.py")),
    ]
    for source, relative in sources:
        cached = vendor / relative.parent / "__pycache__"
        cached.mkdir(parents=True, exist_ok=True)
        py_compile.compile(
            str(source),
            cfile=str(cached / f"{relative.stem}.{_cache_tag()}.pyc"),
            dfile=f"{LAMBDA_TASK_ROOT}/{relative.as_posix()}",
            doraise=True,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )


def _cache_tag() -> str:
    return f"cpython-{RUNTIME[0]}{RUNTIME[1]}"


def _link_or_copy(source: str, destination: str) -> None:
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def unzipped_size(archive: Path) -> int:
    """Bytes a zip holds once extracted: what counts against Lambda's 250 MB."""
    with zipfile.ZipFile(archive) as opened:
        return sum(entry.file_size for entry in opened.infolist())


def lay_out_package(staged: StagedProject, target: Path) -> Path:
    """What Chalice zips from ``staged``, as a folder: ``/var/task`` as Lambda unpacks it.

    Chalice's packager puts ``chalice/__init__.py`` and ``chalice/app.py``, ``app.py``,
    ``chalicelib/`` and the contents of ``vendor/`` at the zip's root.
    """
    target.mkdir(parents=True, exist_ok=True)
    vendor = staged.path / "vendor"
    if vendor.is_dir():
        shutil.copytree(vendor, target, copy_function=_link_or_copy, dirs_exist_ok=True)
    shutil.copy2(staged.path / "app.py", target / "app.py")
    shutil.copytree(staged.path / "chalicelib", target / "chalicelib", copy_function=_link_or_copy)
    (target / "chalice").mkdir(exist_ok=True)
    shutil.copy2(chalice.__file__, target / "chalice" / "__init__.py")
    shutil.copy2(chalice.app.__file__, target / "chalice" / "app.py")
    return target


def folder_size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())
