"""The home feed: which posts a user sees, newest first.

Authors under the fan-out threshold are pushed into each follower's feed when they post
(fan-out on write); authors at or over it are pulled at read time (fan-out on read) and
merged in by time, under one cursor.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from chalicelib.posts.domain import PostRef
from chalicelib.stories.domain import StoryRef


class JobKind(StrEnum):
    ADD = "add"  # write the post into followers' feeds
    REMOVE = "remove"  # take a deleted post out of them
    TAG = "tag"  # an account became a celebrity: index its follow edges
    STORY = "story"  # write a new story into followers' story trays


@dataclass(frozen=True)
class FanoutJob:
    """One page of a fan-out: followers of ``author_id`` from ``start`` on."""

    kind: JobKind
    author_id: str
    post: PostRef | None = None
    start: dict | None = None  # the followers index position; None for the first page
    story: StoryRef | None = None  # for STORY jobs
