"""What each kind of fan-out job writes, as its feature registers it (``app.py`` does, at
init, for every function: the worker runs whatever kind comes off the queue).

The features register instead of the worker importing them: they queue jobs through this
package, and an import back from it would make a cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.fanout.domain import FanoutJob


@dataclass(frozen=True)
class Inbox:
    """How a kind of job writes one page.

    Parameters
    ----------
    write:
        Writes the job's thing for each of ``recipients``; idempotent, as a page may be
        delivered twice.
    page_size:
        Followers a page; None for the ``FANOUT_PAGE_SIZE`` setting.
    author_too:
        Whether the author is a recipient too (on the first page).
    """

    write: Callable[[FanoutJob, list[str]], None]
    page_size: int | None = None
    author_too: bool = True


_inboxes: dict[str, Inbox] = {}


def register(inboxes: dict[str, Inbox]) -> None:
    """Add a feature's kinds. A kind taken by another inbox is a mistake, not an override;
    the same one again is not (``app.py`` imported a second time registers again)."""
    taken = sorted(kind for kind, inbox in inboxes.items() if _inboxes.get(kind, inbox) != inbox)
    if taken:
        raise ValueError(f"fan-out kinds registered twice: {taken}")
    _inboxes.update(inboxes)


def inbox_of(kind: str) -> Inbox:
    """The registered inbox of ``kind``; ``ValueError`` for a kind nobody registered."""
    try:
        return _inboxes[kind]
    except KeyError:
        raise ValueError(f"no fan-out kind {kind!r} is registered") from None
