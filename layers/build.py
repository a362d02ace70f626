"""Build a Lambda layer from ``layers/<name>/requirements.txt``.

    python -m layers.build media [--output-dir DIR]

The layer holds ``python/...`` (Lambda puts that folder on ``sys.path``) and is zipped to
``<output dir>/<name>.zip``; the output dir defaults to ``layers/<name>/build``. Packages come
only from manylinux x86_64 wheels for CPython 3.12, the Lambda runtime, so nothing is ever
compiled against the build host. Bytecode is compiled here because the runtime cannot write
it (``/opt`` is read-only): without it every cold start recompiles every imported module.
"""

from __future__ import annotations

import argparse
import compileall
import os
import py_compile
import re
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

LAYERS_DIR = Path(__file__).resolve().parent
RUNTIME = (3, 12)
PLATFORMS = ("manylinux2014_x86_64", "manylinux_2_28_x86_64")
EXTENSION_TAG = "cpython-312-x86_64-linux-gnu"
# Lambda unpacks layers into /opt; python/ inside is on sys.path.
LAMBDA_LAYER_PATH = "/opt/python"
# The python3.12 runtime has boto3 and what it depends on. A copy in a layer or a package
# would shadow them for the runtime's botocore too (pip may pick versions botocore refuses).
RUNTIME_PROVIDED = (
    "boto3",
    "botocore",
    "s3transfer",
    "jmespath",
    "python-dateutil",
    "six",
    "urllib3",
)
# A fixed time for every zip entry, so the same packages give the same zip (and deploys see
# no change). The .pyc files do not compare timestamps (compile_bytecode), so none needs one.
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)


class LayerBuildError(Exception):
    pass


def build_layer(name: str, output_dir: Path | None = None) -> Path:
    """Build the named layer and zip it.

    Parameters
    ----------
    name : str
        A folder under ``layers/`` holding a ``requirements.txt``.
    output_dir : Path, optional
        Where ``python/`` and ``<name>.zip`` go; ``layers/<name>/build`` by default. Only
        those two are replaced, nothing else in the folder is touched.

    Returns
    -------
    Path
        The zip, ready to publish as a layer version.
    """
    requirements = LAYERS_DIR / name / "requirements.txt"
    if not requirements.is_file():
        known = sorted(path.parent.name for path in LAYERS_DIR.glob("*/requirements.txt"))
        raise LayerBuildError(f"no layer {name!r}: expected {requirements} (known: {known})")
    if sys.version_info[:2] != RUNTIME:
        # Bytecode is only valid for the interpreter version that wrote it.
        raise LayerBuildError(
            f"run this with Python {RUNTIME[0]}.{RUNTIME[1]}, the Lambda runtime, "
            f"not {sys.version_info[0]}.{sys.version_info[1]}"
        )
    output_dir = (output_dir or LAYERS_DIR / name / "build").resolve()
    site_packages = output_dir / "python"
    archive = output_dir / f"{name}.zip"
    shutil.rmtree(site_packages, ignore_errors=True)
    archive.unlink(missing_ok=True)
    output_dir.mkdir(parents=True, exist_ok=True)

    install_wheels(requirements, site_packages)
    for distribution in RUNTIME_PROVIDED:
        remove_distribution(site_packages, distribution)
    strip(site_packages)
    check_extensions(site_packages)
    compile_bytecode(site_packages, LAMBDA_LAYER_PATH)
    _zip(site_packages, archive)

    unzipped = sum(path.stat().st_size for path in site_packages.rglob("*") if path.is_file())
    print(
        f"{name} layer: {unzipped / 1e6:.1f} MB unzipped, {archive.stat().st_size / 1e6:.1f} MB "
        f"zipped -> {archive}"
    )
    return archive


def install_wheels(requirements: Path, target: Path) -> None:
    """Install ``requirements`` into ``target`` from manylinux wheels for the Lambda runtime."""
    platforms = [argument for platform in PLATFORMS for argument in ("--platform", platform)]
    command = [
        sys.executable, "-m", "pip", "install",
        "--quiet", "--disable-pip-version-check", "--no-compile",
        "--target", str(target),
        *platforms,
        "--implementation", "cp",
        "--python-version", f"{RUNTIME[0]}.{RUNTIME[1]}",
        "--abi", f"cp{RUNTIME[0]}{RUNTIME[1]}",
        "--only-binary=:all:",
        "--requirement", str(requirements),
    ]  # fmt: skip
    result = subprocess.run(command, check=False)  # noqa: S603 - our own interpreter and arguments
    if result.returncode != 0:
        raise LayerBuildError(f"pip could not install {requirements} as manylinux wheels")


def remove_distribution(site_packages: Path, name: str) -> bool:
    """Delete an installed distribution's files (as listed in its RECORD); True if it was there."""
    wanted = re.sub(r"[-_.]+", "_", name).lower()
    removed = False
    for info in site_packages.glob("*.dist-info"):
        if info.name.split("-")[0].lower() != wanted:
            continue
        record = info / "RECORD"
        top_levels = set()
        for row in record.read_text().splitlines() if record.is_file() else []:
            relative = row.split(",", 1)[0]
            if relative and not relative.startswith(".."):
                top_levels.add(Path(relative).parts[0])
        for entry in top_levels:
            path = site_packages / entry
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
        shutil.rmtree(info, ignore_errors=True)
        removed = True
    return removed


def strip(site_packages: Path) -> None:
    """Drop what the runtime never reads: cached bytecode (compiled afresh below), packages'
    own test suites, and the console scripts pip writes for the build host."""
    for directory in sorted(site_packages.rglob("*"), reverse=True):
        if directory.is_dir() and directory.name in ("__pycache__", "tests"):
            shutil.rmtree(directory)
    shutil.rmtree(site_packages / "bin", ignore_errors=True)


def check_extensions(site_packages: Path) -> None:
    wrong = [
        path.relative_to(site_packages).as_posix()
        for path in site_packages.rglob("*.so")
        if ".cpython-" in path.name and EXTENSION_TAG not in path.name
    ]
    if wrong:
        raise LayerBuildError(f"extensions built for another Python or platform: {wrong}")


def compile_bytecode(site_packages: Path, runtime_path: str) -> None:
    """Compile every module under ``site_packages`` as Lambda will find it at ``runtime_path``."""
    # Unchecked hash-based .pyc: used as they are, without comparing the source's timestamp,
    # which a zip (2-second resolution) and a layer's extraction would not keep anyway. The
    # paths inside are where Lambda unpacks the code, for tracebacks, not this build's.
    compiled = compileall.compile_dir(
        site_packages,
        ddir=runtime_path,
        quiet=1,
        workers=0,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )
    if not compiled:
        raise LayerBuildError(f"some modules under {site_packages} do not compile")


def _zip(site_packages: Path, archive: Path) -> None:
    root = site_packages.parent
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as layer:
        for path in sorted(site_packages.rglob("*")):
            if not path.is_file():
                continue
            entry = zipfile.ZipInfo(path.relative_to(root).as_posix(), ZIP_TIMESTAMP)
            entry.compress_type = zipfile.ZIP_DEFLATED
            executable = os.access(path, os.X_OK)
            entry.external_attr = (stat.S_IFREG | (0o755 if executable else 0o644)) << 16
            layer.writestr(entry, path.read_bytes())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("name", help="the layer: a folder under layers/ with a requirements.txt")
    parser.add_argument("--output-dir", type=Path, help="default: layers/<name>/build")
    arguments = parser.parse_args(argv)
    try:
        build_layer(arguments.name, arguments.output_dir)
    except LayerBuildError as error:
        print(f"layer build failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
