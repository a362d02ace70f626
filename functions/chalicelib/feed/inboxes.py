"""The feed's kinds of fan-out job and what each writes (``app.py`` registers them with the
fan-out worker). Light: the writers load on the first job."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.core.lazy import lazy_module
from chalicelib.fanout.inboxes import Inbox
from chalicelib.feed.domain import JobKind

if TYPE_CHECKING:
    from chalicelib.fanout.domain import FanoutJob
    from chalicelib.feed import fanout
else:
    fanout = lazy_module("chalicelib.feed.fanout")


def _add(job: FanoutJob, readers: list[str]) -> None:
    fanout.add_to_feeds(job, readers)


def _remove(job: FanoutJob, readers: list[str]) -> None:
    fanout.remove_from_feeds(job, readers)


def _tag(job: FanoutJob, followers: list[str]) -> None:
    fanout.tag_celebrity_edges(job, followers)


FEED_INBOXES: dict[str, Inbox] = {
    JobKind.ADD: Inbox(_add),
    JobKind.REMOVE: Inbox(_remove),
    # A tag is one small conditional write per follow edge to the author; the author's own
    # feed has nothing to tag.
    JobKind.TAG: Inbox(_tag, page_size=200, author_too=False),
}
