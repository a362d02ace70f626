"""The follow graph's own words: what following someone can result in, and follow requests.

A private account is not followed at once: the follow becomes a request, which only its
target can approve (it then becomes a follow edge, counted like any follow) or decline.
Edges exist only for approved follows, so "may see a private account's posts" stays
"has an edge to it" everywhere (posts, stories, lists, the feed's fan-out).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class FollowStatus(StrEnum):
    """How the caller stands towards an account, as the follow routes answer it."""

    FOLLOWING = "following"
    REQUESTED = "requested"
    NONE = "none"


@dataclass(frozen=True)
class FollowRequest:
    """A pending request by ``requester_id`` to follow the private account ``target_id``."""

    target_id: str
    requester_id: str
    requested_at: str  # ISO-8601 with milliseconds and Z: sorts by time

    def as_item(self) -> dict[str, str]:
        """The request as its stored item reads (what notifications are derived from)."""
        return {
            "target_id": self.target_id,
            "requester_id": self.requester_id,
            "requested_at": self.requested_at,
        }


class FollowOutcome(StrEnum):
    """What an attempt to follow a public account at once found."""

    DONE = "done"  # the edge was made and counted by this call
    EXISTS = "exists"  # the edge was there already: nothing changed
    PRIVATE = "private"  # the account is private (now): ask to follow it instead


class RequestOutcome(StrEnum):
    """What an attempt to create or settle a request found."""

    DONE = "done"  # the request was created, approved or discarded by this call
    EXISTS = "exists"  # creating: a request was already pending
    FOLLOWING = "following"  # the requester already follows the target
    NOT_PRIVATE = "not_private"  # creating: the account is public (now): follow it at once
    CHANGED = "changed"  # settling: the request went or was replaced meanwhile; read again
