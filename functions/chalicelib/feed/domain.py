"""The home feed: which posts a user sees, newest first.

Authors under the fan-out threshold are pushed into each follower's feed when they post
(fan-out on write); authors at or over it are pulled at read time (fan-out on read) and
merged in by time, under one cursor.
"""

from __future__ import annotations

from enum import StrEnum


class JobKind(StrEnum):
    """The feed's kinds of fan-out job (``fanout/``), as queued messages name them."""

    ADD = "add"  # write the post into followers' feeds
    REMOVE = "remove"  # take a deleted post out of them
    TAG = "tag"  # an account became a celebrity: index its follow edges
