"""Stories: a photo that shows for a day (``STORY_TTL_SECONDS``), then is gone exactly.

A story id is ``<ULID>_<owner id>``, like a post id: whoever holds it knows the owner, so a
story is one GetItem away (the stories table is keyed by owner, then story id) and owner-only
checks (the viewers list) need no read at all. The id stays opaque to clients.

"Gone exactly" does not wait for DynamoDB TTL (late on AWS, never on moto): every read
compares ``expires_at`` with the clock itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.core import ids
from chalicelib.core.clock import epoch_seconds
from chalicelib.core.errors import InvalidInput
from chalicelib.media.domain import AttachedMedia
from chalicelib.users.domain import User

MAX_STORY_ID_LENGTH = 200


def new_story_id(owner_id: str, at: datetime) -> str:
    return f"{ids.new_ulid(at)}_{owner_id}"


def owner_of(story_id: str) -> str | None:
    """The owner named by a story id, or None when it is not one of ours."""
    if len(story_id) > MAX_STORY_ID_LENGTH:
        return None
    stamp, separator, owner_id = story_id.partition("_")
    if not separator or not owner_id or not ids.is_ulid(stamp):
        return None
    return owner_id


def expiry_hour(moment: datetime) -> str:
    """The sweeper's bucket of a time: ``2026-11-20T10`` (UTC)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H")


def hours_back(now: datetime, hours: int) -> list[str]:
    """The buckets from ``hours`` ago up to now's, oldest first."""
    return [expiry_hour(now - timedelta(hours=back)) for back in range(hours, -1, -1)]


def from_epoch(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


@dataclass(frozen=True)
class Story:
    story_id: str
    owner_id: str
    created_at: datetime
    expires_at: datetime
    media: AttachedMedia

    def is_active(self, now: datetime) -> bool:
        return self.expires_at > now


@dataclass(frozen=True)
class AccountStories:
    """An account's active stories as one viewer sees them, oldest first, and which of them
    the viewer has viewed: a group of the story tray, or what a profile shows."""

    owner: User
    stories: tuple[Story, ...]
    seen: frozenset[str]  # story ids

    def was_seen(self, story: Story) -> bool:
        return story.story_id in self.seen


def expiry_of(created_at: datetime, ttl_seconds: int) -> datetime:
    """Creation + TTL, down to the whole second: DynamoDB TTL counts whole epoch seconds, and
    the contract's ``expires_at`` and the TTL attribute then name the same instant."""
    return from_epoch(epoch_seconds(created_at + timedelta(seconds=ttl_seconds)))


@dataclass(frozen=True, order=True)
class StoryRef:
    """A story as trays and fan-out jobs name it (no media: a tray read fetches that)."""

    owner_id: str
    created_at: str  # ISO-8601 with milliseconds and Z: sorts as time does
    story_id: str
    expires_at: int  # epoch seconds, DynamoDB TTL's unit

    @property
    def tray_key(self) -> str:
        return f"{self.owner_id}#{self.created_at}#{self.story_id}"


@dataclass(frozen=True)
class TrayAccount:
    """An account in a viewer's story tray, as the tray's entries tell it: the newest of its
    active stories, and the newest of its stories the viewer has seen (None: none yet)."""

    owner_id: str
    latest_story_id: str
    seen_up_to: str | None = None

    def rank(self, viewer_id: str) -> int:
        """0: the viewer's own; 1: an account with a story the viewer has not seen; 2: the
        rest (story ids sort by time, so "seen up to the newest" is "seen all")."""
        if self.owner_id == viewer_id:
            return 0
        return 2 if (self.seen_up_to or "") >= self.latest_story_id else 1

    def position(self, viewer_id: str) -> dict[str, Any]:
        """Where the account stands in the tray's order, as a cursor carries it."""
        return {
            "rank": self.rank(viewer_id),
            "latest": self.latest_story_id,
            "owner": self.owner_id,
        }


def _tray_order(position: dict[str, Any]) -> tuple[Any, ...]:
    """The tray's order: own first, then unseen, then seen; newest story first within each;
    the owner's id breaks ties. (Newest first as an ascending key: each character negated,
    and a longer id before its own prefix.)"""
    newest_first = (*(-ord(char) for char in position["latest"]), 1)
    return (position["rank"], newest_first, position["owner"])


def tray_page(
    accounts: Iterable[TrayAccount], viewer_id: str, after: dict[str, Any] | None, limit: int
) -> tuple[list[TrayAccount], dict[str, Any] | None]:
    """One page of the tray's accounts in the tray's order, after the position ``after``
    (a cursor's), and the position of the page's last account when more follow.

    Positions are keys, not offsets: an account that moves meanwhile (its story seen, a new
    story) is shown where it stands when the next page is read.
    """
    ordered = sorted(accounts, key=lambda account: _tray_order(account.position(viewer_id)))
    if after is not None:
        if not (
            isinstance(after.get("rank"), int)
            and isinstance(after.get("latest"), str)
            and isinstance(after.get("owner"), str)
        ):
            raise InvalidInput("cursor is not valid for this list: start again without it")
        start = _tray_order(after)
        ordered = [a for a in ordered if _tray_order(a.position(viewer_id)) > start]
    page = ordered[:limit]
    more = len(ordered) > limit
    return page, (page[-1].position(viewer_id) if more else None)


@dataclass(frozen=True)
class MediaPurge:
    """An expired story's media, to release (``media/cleanup.py``) when due."""

    media_id: str
    owner_id: str
    story_id: str
    due_at: datetime
