"""The Makefile's verbs: `make` alone lists every one with what it does, and each verb
installs only the requirement set it needs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAKE = shutil.which("make")


def phony_targets() -> list[str]:
    text = (ROOT / "Makefile").read_text().replace("\\\n", " ")
    return [name for names in re.findall(r"^\.PHONY:(.*)$", text, re.M) for name in names.split()]


def listed_verbs(*arguments: str, venv: Path) -> dict[str, str]:
    """``{target: description}`` from what ``make [arguments]`` prints, with .venv at ``venv``."""
    if MAKE is None:
        pytest.skip("make is not installed")
    # Run as a top-level make even under `make test`, which would add "Entering directory".
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")
    }
    shown = subprocess.run(  # noqa: S603 - make from PATH, fixed arguments
        [MAKE, "--no-print-directory", f"VENV={venv}", *arguments],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    verbs = {}
    for line in shown.splitlines():
        target, _, description = line.strip().partition(" ")
        verbs[target] = description.strip()
    return verbs


def requirement_names(file: Path) -> set[str]:
    """The packages a requirements file pins, with those of the files it includes (-r)."""
    names = set()
    for line in file.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            names |= requirement_names(ROOT / line.removeprefix("-r ").strip())
        elif line:
            names.add(re.split(r"[\[=<>~!; ]", line, maxsplit=1)[0].lower())
    return names


def test_make_alone_lists_every_phony_target_with_a_description(tmp_path: Path) -> None:
    venv = tmp_path / "venv"

    verbs = listed_verbs(venv=venv)

    assert verbs == listed_verbs("help", venv=venv)
    undescribed = [target for target in phony_targets() if not verbs.get(target)]
    assert undescribed == [], "give each a `## what it does` comment on its line"
    assert set(verbs) <= set(phony_targets()), "a listed target that is not .PHONY"
    assert not venv.exists(), "listing the verbs must install nothing"


def test_the_run_set_installs_no_test_lint_or_benchmark_tool() -> None:
    tools = {"pytest", "schemathesis", "ruff", "mypy", "pyvips", "pyvips-binary"}

    assert requirement_names(ROOT / "requirements-run.txt") & tools == set()
    assert {"pytest", "schemathesis"} <= requirement_names(ROOT / "requirements-test.txt")
    assert {"ruff", "mypy"} <= requirement_names(ROOT / "requirements-lint.txt")
    assert {"pyvips", "pyvips-binary"} <= requirement_names(ROOT / "requirements-bench.txt")


def test_make_reconcile_runs_for_the_stage_and_deletes_only_with_delete(tmp_path: Path) -> None:
    if MAKE is None:
        pytest.skip("make is not installed")
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")
    }

    def command(*arguments: str) -> str:
        """The command ``make -n reconcile`` would run (its last line; nothing runs)."""
        shown = subprocess.run(  # noqa: S603 - make from PATH, fixed arguments
            [MAKE, "-n", "--no-print-directory", f"VENV={tmp_path}", "reconcile", *arguments],
            cwd=ROOT, env=environment, capture_output=True, text=True, check=True, timeout=60,
        ).stdout  # fmt: skip
        return shown.strip().splitlines()[-1]

    assert command("STAGE=prod").endswith("-m infrastructure.reconcile --stage prod")
    assert command("STAGE=prod", "DELETE=1").endswith(
        "-m infrastructure.reconcile --stage prod --delete"
    )
    assert not (tmp_path / "bin").exists(), "a dry run installs nothing"
