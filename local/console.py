"""What the local stack prints for each invocation: one readable line, then the lines it wrote.

On AWS every function writes to its own log stream, so each invocation's lines stand
together. Here every handler runs in one process, many at once, all writing to one stdout.
So while an invocation runs, what its thread writes to stdout (Powertools' JSON lines and
metrics, exactly as Lambda would send them to CloudWatch) is held back; when it returns, one
summary line (``POST /posts 201 34 ms user=alice``, ``posts_stream 3 records 0 failures
12 ms``) is printed with those lines below it, all at once. The JSON lines are printed
unchanged, so ``grep '^{' | jq`` reads them as it would CloudWatch's.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO


class Console:
    """Stands in for ``sys.stdout`` once installed; a thread inside `capture` writes to its
    invocation's lines, every other write goes straight through."""

    def __init__(self) -> None:
        self._stream: TextIO | None = None
        self._lock = threading.Lock()
        self._captures = threading.local()

    def install(self) -> None:
        """Take over ``sys.stdout``: before the app's logger is made, which keeps the stream it
        was made with."""
        if self._stream is None:
            self._stream = sys.stdout
            sys.stdout = self  # type: ignore[assignment]

    def uninstall(self) -> None:
        if self._stream is not None and sys.stdout is self:
            sys.stdout = self._stream
        self._stream = None

    @contextmanager
    def capture(self) -> Iterator[list[str]]:
        """Hold what this thread writes until the block ends; yields the held lines."""
        held: list[str] = []
        stack = self._stack()
        stack.append(held)
        try:
            yield held
        finally:
            stack.pop()

    def report(self, summary: str, held: list[str]) -> None:
        """Print ``summary`` and the invocation's lines under it, together, once installed
        (until then, as in tests that drive a gateway in-process, lines were not held)."""
        if self._stream is None:
            return
        text = summary + "\n" + "".join(held)
        if text and not text.endswith("\n"):
            text += "\n"
        stack = self._stack()
        if stack:  # an invocation inside another: its report belongs to the outer one
            stack[-1].append(text)
            return
        self._write_through(text)

    # The file interface print() and logging's StreamHandler use.
    def write(self, text: str) -> int:
        stack = self._stack()
        if stack and self._stream is not None:
            stack[-1].append(text)
        else:
            self._write_through(text)
        return len(text)

    def flush(self) -> None:
        stream = self._stream or sys.__stdout__
        if stream is not None:
            stream.flush()

    def isatty(self) -> bool:
        stream = self._stream or sys.__stdout__
        return bool(stream is not None and stream.isatty())

    @property
    def encoding(self) -> str:
        stream = self._stream or sys.__stdout__
        return getattr(stream, "encoding", None) or "utf-8"

    def _stack(self) -> list[list[str]]:
        stack: list[list[str]] | None = getattr(self._captures, "stack", None)
        if stack is None:
            stack = self._captures.stack = []
        return stack

    def _write_through(self, text: str) -> None:
        stream = self._stream if self._stream is not None else sys.__stdout__
        if stream is None:
            return
        with self._lock:
            stream.write(text)
            # Piped (make run | tee, the end-to-end tests), stdout is block-buffered.
            stream.flush()


console = Console()
