"""Notifications: who is told what, derived from the items other features write.

Every notification comes from one source item (a follow edge, a like, a comment, a post), and
its key is derived from that item alone: ``<created_at>#<digest of type, actor and object>``.
So a stream record delivered twice names the same notification twice, and the removal of the
source item (its old image) names exactly the notifications to delete, with no lookup.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from chalicelib.core.clock import iso
from chalicelib.core.errors import NotFound
from chalicelib.users.domain import User

KEY_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z#[0-9a-f]{16}$")
_MAX_ID_LENGTH = 128


class NotificationType(StrEnum):
    LIKE = "like"
    COMMENT = "comment"
    FOLLOW = "follow"
    # A request to follow a private account (a follow_requests item). Approving or declining
    # it withdraws this; an approval then makes a follow edge, which tells its FOLLOW.
    FOLLOW_REQUEST = "follow_request"
    MENTION = "mention"


class UnreadableRecord(ValueError):
    """A source item lacks what a notification needs; the stream record is reported failed."""


@dataclass(frozen=True)
class Notification:
    recipient_id: str
    type: NotificationType
    actor_id: str
    created_at: str  # ISO-8601 with milliseconds and Z: the source item's time
    post_id: str | None = None
    comment_id: str | None = None

    @property
    def key(self) -> str:
        """Orders a recipient's notifications by time; unique per (type, actor, object)."""
        subject = "|".join(
            (self.type.value, self.actor_id, self.post_id or "", self.comment_id or "")
        )
        digest = hashlib.sha256(subject.encode("utf-8")).hexdigest()[:16]
        return f"{self.created_at}#{digest}"

    @property
    def notification_id(self) -> str:
        return encode_notification_id(self.key)


@dataclass(frozen=True)
class NotificationView:
    """A stored notification as its recipient sees it."""

    notification: Notification
    actor: User
    read: bool


@dataclass(frozen=True)
class NotificationChanges:
    """What one source change means: notifications to store and ones to withdraw."""

    stored: list[Notification]
    withdrawn: list[Notification]


def encode_notification_id(key: str) -> str:
    """The public id: the key, opaque to clients (they only hand it back)."""
    return base64.urlsafe_b64encode(key.encode("ascii")).rstrip(b"=").decode("ascii")


def decode_notification_id(notification_id: str) -> str:
    """The key a public id stands for; NotFound for anything this service did not issue."""
    # An id is opaque: one this service did not issue names nothing, as an unknown one does.
    invalid = NotFound("until names none of your notifications; use an id from the list")
    if not (0 < len(notification_id) <= _MAX_ID_LENGTH) or not notification_id.isascii():
        raise invalid
    try:
        padded = notification_id + "=" * (-len(notification_id) % 4)
        key = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
    except (binascii.Error, ValueError) as exc:
        raise invalid from exc
    if not KEY_PATTERN.match(key) or encode_notification_id(key) != notification_id:
        raise invalid
    return key


# --- what each source item means ---------------------------------------------------------


def follow_notifications(edge: Mapping[str, Any]) -> list[Notification]:
    """A follow edge tells the followee who followed them."""
    return _for_others(
        [
            Notification(
                recipient_id=_text(edge, "followee_id"),
                type=NotificationType.FOLLOW,
                actor_id=_text(edge, "follower_id"),
                created_at=_time(edge, "followed_at"),
            )
        ]
    )


def follow_request_notifications(request: Mapping[str, Any]) -> list[Notification]:
    """A follow request tells the private account who asked to follow it."""
    return _for_others(
        [
            Notification(
                recipient_id=_text(request, "target_id"),
                type=NotificationType.FOLLOW_REQUEST,
                actor_id=_text(request, "requester_id"),
                created_at=_time(request, "requested_at"),
            )
        ]
    )


def like_notifications(like: Mapping[str, Any]) -> list[Notification]:
    """A like tells the post's author."""
    return _for_others(
        [
            Notification(
                recipient_id=_text(like, "post_author_id"),
                type=NotificationType.LIKE,
                actor_id=_text(like, "user_id"),
                created_at=_time(like, "created_at"),
                post_id=_text(like, "post_id"),
            )
        ]
    )


def comment_notifications(comment: Mapping[str, Any]) -> list[Notification]:
    """A comment tells the post's author, and everyone it mentions."""
    about = {
        "actor_id": _text(comment, "author_id"),
        "created_at": _time(comment, "created_at"),
        "post_id": _text(comment, "post_id"),
        "comment_id": _text(comment, "comment_id"),
    }
    told = [Notification(_text(comment, "post_author_id"), NotificationType.COMMENT, **about)]
    told += [
        Notification(mentioned, NotificationType.MENTION, **about)
        for mentioned in _ids(comment, "mentions")
    ]
    return _for_others(told)


@dataclass(frozen=True)
class PostOf:
    """Which post an item is, and since when: nothing notified about it is older."""

    author_id: str
    post_id: str
    created_at: str


def post_of(post: Mapping[str, Any]) -> PostOf:
    return PostOf(_text(post, "author_id"), _text(post, "post_id"), _time(post, "created_at"))


def post_notifications(post: Mapping[str, Any]) -> list[Notification]:
    """A post tells everyone its caption mentions."""
    of = post_of(post)
    return _for_others(
        [
            Notification(
                mentioned, NotificationType.MENTION, of.author_id, of.created_at, of.post_id
            )
            for mentioned in _ids(post, "mentions")
        ]
    )


def changes(before: Iterable[Notification], after: Iterable[Notification]) -> NotificationChanges:
    """The notifications a change of a source item adds and withdraws.

    An insert has nothing before, a removal nothing after; a modification that leaves the
    notifications as they were (a post's like count moving, say) changes nothing.
    """
    before, after = list(before), list(after)
    had = {(n.recipient_id, n.key) for n in before}
    has = {(n.recipient_id, n.key) for n in after}
    return NotificationChanges(
        stored=[n for n in after if (n.recipient_id, n.key) not in had],
        withdrawn=[n for n in before if (n.recipient_id, n.key) not in has],
    )


def is_read(notification: Notification, read_until: str | None) -> bool:
    """Read when at or before the recipient's read-up-to key in the newest-first order."""
    return read_until is not None and notification.key <= read_until


# --- reading source items -----------------------------------------------------------------


def _for_others(notifications: list[Notification]) -> list[Notification]:
    """Nobody is told of their own action; nobody is told the same thing twice."""
    unique: dict[tuple[str, str], Notification] = {}
    for notification in notifications:
        if notification.recipient_id != notification.actor_id:
            unique.setdefault((notification.recipient_id, notification.key), notification)
    return list(unique.values())


def _text(item: Mapping[str, Any], name: str) -> str:
    value = item.get(name)
    if not isinstance(value, str) or not value:
        raise UnreadableRecord(f"the item has no {name}")
    return value


def _ids(item: Mapping[str, Any], name: str) -> list[str]:
    """The user ids a list names: ids themselves (a comment's ``mentions``) or maps with a
    ``user_id`` (a post's ``mentions``, which keep the username too). Absent means none."""
    value = item.get(name)
    if value is None:
        return []
    if not isinstance(value, list | tuple | set):
        raise UnreadableRecord(f"the item's {name} is not a list")
    ids: list[str] = []
    for entry in value:
        user_id = entry.get("user_id") if isinstance(entry, Mapping) else entry
        if not isinstance(user_id, str) or not user_id:
            raise UnreadableRecord(f"the item's {name} has an entry with no user id")
        ids.append(user_id)
    return sorted(ids) if isinstance(value, set) else ids


def _time(item: Mapping[str, Any], name: str) -> str:
    """The item's time as the contract writes it (ISO-8601, milliseconds, Z).

    Accepts ISO-8601 strings with an offset (including PynamoDB's ``UTCDateTimeAttribute``
    format) and epoch seconds.
    """
    value = item.get(name)
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError as exc:
            raise UnreadableRecord(f"the item's {name} is not an ISO-8601 time") from exc
        if moment.tzinfo is None:
            raise UnreadableRecord(f"the item's {name} has no time zone")
    elif isinstance(value, Decimal | int | float) and not isinstance(value, bool):
        try:
            moment = datetime.fromtimestamp(float(value), UTC)
        except (ValueError, OverflowError, OSError) as exc:
            raise UnreadableRecord(f"the item's {name} is not a time") from exc
    else:
        raise UnreadableRecord(f"the item has no {name}")
    return iso(moment)
