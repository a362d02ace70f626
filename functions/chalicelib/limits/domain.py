"""Per-user write limits: how many of each action a user may do in a window.

The defaults follow Pixelfed's daily caps (1,000 posts, 500 likes, 20 stories a day) and
add the other writes a spammer would repeat. Windows are fixed and aligned to the epoch (a
day runs from 00:00 UTC), so a counter is one item per user, action and window; a burst
across a window's edge can reach twice the cap, which is fine for abuse limits.

A stage overrides any of them with ``RATE_LIMITS``, e.g. ``likes=5/60,posts=100/3600``
(count per window in seconds).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import cache

from chalicelib.core.clock import epoch_seconds
from chalicelib.core.errors import RateLimited

DAY = 24 * 60 * 60


class Action(StrEnum):
    POSTS = "posts"
    STORIES = "stories"
    LIKES = "likes"
    COMMENTS = "comments"
    FOLLOWS = "follows"
    MESSAGES = "messages"
    UPLOADS = "uploads"


@dataclass(frozen=True)
class Limit:
    action: Action
    count: int
    window_seconds: int

    def window_of(self, now: datetime) -> Window:
        start = epoch_seconds(now) // self.window_seconds * self.window_seconds
        return Window(self, start, start + self.window_seconds)


@dataclass(frozen=True)
class Window:
    limit: Limit
    starts_at: int  # epoch seconds
    ends_at: int

    def seconds_left(self, now: datetime) -> int:
        """What ``Retry-After`` says: whole seconds until the window ends, at least 1."""
        return max(1, math.ceil(self.ends_at - now.timestamp()))


DEFAULT_LIMITS: dict[Action, Limit] = {
    limit.action: limit
    for limit in (
        Limit(Action.POSTS, 1000, DAY),
        Limit(Action.STORIES, 20, DAY),
        Limit(Action.LIKES, 500, DAY),
        Limit(Action.COMMENTS, 500, DAY),
        Limit(Action.FOLLOWS, 500, DAY),
        Limit(Action.MESSAGES, 5000, DAY),
        Limit(Action.UPLOADS, 2000, DAY),
    )
}


def parse_overrides(spec: str) -> dict[Action, Limit]:
    """``"likes=5/60,posts=100/3600"`` -> limits; raises ValueError on anything else."""
    limits: dict[Action, Limit] = {}
    for part in filter(None, (piece.strip() for piece in spec.split(","))):
        name, _, value = part.partition("=")
        count, _, window = value.partition("/")
        action = Action(name.strip())
        limit = Limit(action, int(count), int(window))
        if limit.count < 0 or limit.window_seconds <= 0:
            raise ValueError(f"{part}: the count must be >= 0 and the window > 0 seconds")
        limits[action] = limit
    return limits


def limits_from(spec: str) -> dict[Action, Limit]:
    return {**DEFAULT_LIMITS, **parse_overrides(spec)}


@cache
def _limits(spec: str) -> dict[Action, Limit]:
    return limits_from(spec)  # parsed once per spec: every limited write asks


def window_for(action: Action, overrides: str, now: datetime) -> Window:
    """The window of ``action``'s limit (under a stage's ``RATE_LIMITS`` overrides) that
    ``now`` falls in: the counter a write charges."""
    return _limits(overrides)[action].window_of(now)


def refusal(window: Window, now: datetime) -> RateLimited:
    """What a write refused by its limit raises: 429 with ``Retry-After`` (the window's end)."""
    limit = window.limit
    return RateLimited(
        f"you can do this {limit.count} times per {_spell(limit.window_seconds)}; try again later",
        retry_after_seconds=window.seconds_left(now),
        limit=limit.count,
        resets_at=window.ends_at,
    )


def _spell(seconds: int) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            count = seconds // size
            return unit if count == 1 else f"{count} {unit}s"
    return f"{seconds} seconds"
