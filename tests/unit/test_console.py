"""The local stack's console: each invocation's lines come out together, under its summary."""

from __future__ import annotations

import io
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from local.console import Console


@contextmanager
def installed_over(out: io.StringIO) -> Iterator[Console]:
    # In the test's body: pytest sets sys.stdout afresh as each phase starts.
    saved, sys.stdout = sys.stdout, out
    installed = Console()
    installed.install()
    try:
        yield installed
    finally:
        installed.uninstall()
        sys.stdout = saved


def test_interleaved_invocations_print_each_summary_with_its_own_lines_below() -> None:
    out = io.StringIO()
    with installed_over(out) as installed:
        run_two_invocations_at_once(installed)
        print("outside any invocation")

    blocks = out.getvalue().splitlines()
    for name in ("a", "b"):
        start = blocks.index(f"{name} 200 1 ms")
        assert blocks[start + 1 : start + 3] == [
            f'{{"message": "{name} one"}}',
            f'{{"message": "{name} two"}}',
        ]
    assert blocks[-1] == "outside any invocation"
    assert len(blocks) == 7


def run_two_invocations_at_once(installed: Console) -> None:
    both_writing = threading.Barrier(2)

    def invocation(name: str) -> None:
        with installed.capture() as held:
            print(f'{{"message": "{name} one"}}')
            both_writing.wait()  # the other thread writes between this one's lines
            print(f'{{"message": "{name} two"}}')
        installed.report(f"{name} 200 1 ms", held)

    threads = [threading.Thread(target=invocation, args=(n,)) for n in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_uninstalled_it_holds_nothing_and_prints_no_summary(capsys: pytest.CaptureFixture) -> None:
    idle = Console()
    with idle.capture() as held:
        print("straight through")
    idle.report("a summary", held)
    assert capsys.readouterr().out == "straight through\n"
    assert held == []
