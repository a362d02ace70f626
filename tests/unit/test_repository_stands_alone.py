"""The repository stands alone: a clone has nothing beside it, so nothing tracked may reach
outside it (the contract, the samples and the docs all live inside)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# A path that climbs out of the repository into the "shared" folder beside it (/ or \\).
OUTSIDE = re.compile(rb"\.\.[/\\]shared\b")


def tracked_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"],  # noqa: S607 - the developer's own git, found on PATH
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    return [ROOT / name for name in listed.decode().split("\0") if name]


def test_no_tracked_file_reads_or_links_a_folder_beside_the_repository() -> None:
    files = tracked_files()
    assert len(files) > 100, "git ls-files found too few files: is this a checkout?"
    offenders = [
        str(path.relative_to(ROOT))
        for path in files
        if path.is_file() and OUTSIDE.search(path.read_bytes())
    ]
    assert offenders == [], f"these reach outside the repository: {offenders}"


def test_the_pattern_finds_a_link_to_the_folder_beside() -> None:
    beside = b".." + b"/shared"  # spelled in two halves, so this file does not match itself
    assert OUTSIDE.search(b"see [the contract](" + beside + b"/API.md)")
    assert OUTSIDE.search(beside.replace(b"/", b"\\") + b"\\samples")
    assert not OUTSIDE.search(b"docs/shared/API.md and " + beside + b"ness")
