"""Fan-out on write: a thing written into the inbox of each follower of its author, one page
of followers per job (the feed's posts, the stories' trays).

The mechanism knows jobs, pages and followers; what a job carries (its ``payload``) and what
it writes are its feature's, registered by kind (``inboxes.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalicelib.core.config import get_settings
from chalicelib.users.domain import User


@dataclass(frozen=True)
class FanoutJob:
    """One page of a fan-out: followers of ``author_id`` from ``start`` on.

    ``kind`` names the feature's writer; ``payload`` is the feature's, JSON as it is queued.
    """

    kind: str
    author_id: str
    payload: dict[str, Any] = field(default_factory=dict)
    start: dict | None = None  # the followers index position; None for the first page


def is_celebrity(author: User) -> bool:
    """At or over the threshold, an author is merged at read time instead of fanned out.

    The flag stays once set: a celebrity's followers are indexed to pull their posts, and
    pulling works for any account, so dropping back under the threshold needs no undoing.
    """
    return author.is_celebrity or author.follower_count >= get_settings().fanout_threshold
