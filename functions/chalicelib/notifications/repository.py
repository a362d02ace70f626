"""The notifications table: each recipient's notifications, newest first, and one read marker.

- Partition ``recipient_id``; sort key ``notification_key`` = ``<created_at>#<digest>`` (see
  ``domain.Notification.key``), so a Query in reverse is the newest-first list, and a key
  range starting at "now minus the TTL" leaves out expired items TTL has not deleted yet.
- The read marker is one more item in the partition, under ``READ_MARKER_KEY``: keys start
  with a digit, "~" sorts after all of them, so the list's key range never reaches it.
  Marking read moves that one item forward; ``read`` is computed on the way out.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import (
    DeleteError,
    GetError,
    PutError,
    PynamoDBException,
    UpdateError,
)
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.core.clock import epoch_seconds, iso
from chalicelib.core.dynamodb import BaseMeta, FromSettings, page_of
from chalicelib.core.errors import DependencyUnavailable
from chalicelib.core.pagination import Page, PageRequest
from chalicelib.notifications.domain import Notification, NotificationType

READ_MARKER_KEY = "~read"
_AFTER_EVERY_NOTIFICATION = "~"  # the upper end of the list's key range, below the marker


class NotificationItem(Model):
    class Meta(BaseMeta):
        table_name = FromSettings("notifications_table")

    recipient_id = UnicodeAttribute(hash_key=True)
    notification_key = UnicodeAttribute(range_key=True)
    type = UnicodeAttribute()
    actor_id = UnicodeAttribute()
    created_at = UnicodeAttribute()
    post_id = UnicodeAttribute(null=True)
    comment_id = UnicodeAttribute(null=True)
    # DynamoDB TTL, from the event's time: a rewrite on redelivery stores the same value.
    expires_at = NumberAttribute()


class ReadMarkerItem(Model):
    """Everything at or before ``read_until`` in the recipient's list is read."""

    class Meta(BaseMeta):
        table_name = FromSettings("notifications_table")

    recipient_id = UnicodeAttribute(hash_key=True)
    notification_key = UnicodeAttribute(range_key=True, default=READ_MARKER_KEY)
    read_until = UnicodeAttribute()


def _to_notification(item: NotificationItem) -> Notification:
    return Notification(
        recipient_id=item.recipient_id,
        type=NotificationType(item.type),
        actor_id=item.actor_id,
        created_at=item.created_at,
        post_id=item.post_id,
        comment_id=item.comment_id,
    )


def _expiry(notification: Notification, ttl: timedelta) -> int:
    created = datetime.fromisoformat(notification.created_at)
    return epoch_seconds(created + ttl)


def _item(notification: Notification, ttl: timedelta) -> NotificationItem:
    return NotificationItem(
        notification.recipient_id,
        notification.key,
        type=notification.type.value,
        actor_id=notification.actor_id,
        created_at=notification.created_at,
        post_id=notification.post_id,
        comment_id=notification.comment_id,
        expires_at=_expiry(notification, ttl),
    )


def store_notification(notification: Notification, ttl: timedelta) -> bool:
    """Store it unless it is already stored; True when this call stored it.

    The key comes from the source item, so a redelivered record finds its notification there.
    """
    item = _item(notification, ttl)
    try:
        item.save(condition=NotificationItem.notification_key.does_not_exist())
        return True
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise DependencyUnavailable("could not store a notification") from exc


def add_store(transaction: TransactWrite, notification: Notification, ttl: timedelta) -> None:
    """Store the notification as part of its source item's own transaction (follow requests,
    which have no stream): it exists exactly when the source item does. Unconditional, as
    its key comes from the source item: storing it again writes the same item."""
    transaction.save(_item(notification, ttl))


def add_withdrawal(transaction: TransactWrite, notification: Notification) -> None:
    """Delete the notification as part of the transaction that removes its source item;
    one already gone (expired) changes nothing."""
    transaction.delete(NotificationItem(notification.recipient_id, notification.key))


def delete_notification(recipient_id: str, key: str) -> None:
    """Idempotent: deleting one that is not there changes nothing."""
    try:
        NotificationItem(recipient_id, key).delete()
    except DeleteError as exc:
        raise DependencyUnavailable("could not delete a notification") from exc


def keys_about_post(recipient_id: str, post_id: str, since: str) -> list[str]:
    """Keys of the recipient's notifications about a post, from its creation time on.

    A Query over that key range with a filter: bounded by the notifications the recipient
    got since the post was made (at most the TTL's worth), and run only when a post goes.
    """
    results = NotificationItem.query(
        recipient_id,
        NotificationItem.notification_key.between(since, _AFTER_EVERY_NOTIFICATION),
        filter_condition=NotificationItem.post_id == post_id,
        attributes_to_get=["notification_key"],
    )
    try:
        return [item.notification_key for item in results]
    except PynamoDBException as exc:
        raise DependencyUnavailable("could not read notifications; retry shortly") from exc


def _oldest_live_key(now: datetime, ttl: timedelta) -> str:
    return iso(now - ttl)


def notifications_page(
    recipient_id: str, page: PageRequest, now: datetime, ttl: timedelta
) -> Page[Notification]:
    """A page of the recipient's unexpired notifications, newest first."""
    results = NotificationItem.query(
        recipient_id,
        NotificationItem.notification_key.between(
            _oldest_live_key(now, ttl), _AFTER_EVERY_NOTIFICATION
        ),
        scan_index_forward=False,
        limit=page.limit,
        last_evaluated_key=page.position,
    )
    return page_of(results, _to_notification, "could not read notifications; retry shortly")


def is_stored(recipient_id: str, key: str, now: datetime, ttl: timedelta) -> bool:
    """Whether the recipient has this unexpired notification."""
    if key < _oldest_live_key(now, ttl):
        return False
    try:
        NotificationItem.get(recipient_id, key, attributes_to_get=["notification_key"])
        return True
    except NotificationItem.DoesNotExist:
        return False
    except GetError as exc:
        raise DependencyUnavailable("could not read notifications; retry shortly") from exc


def read_until(recipient_id: str) -> str | None:
    """The recipient's read-up-to key, or None when they have never marked anything read."""
    try:
        return ReadMarkerItem.get(recipient_id, READ_MARKER_KEY, consistent_read=True).read_until
    except ReadMarkerItem.DoesNotExist:
        return None
    except GetError as exc:
        raise DependencyUnavailable("could not read notifications; retry shortly") from exc


def advance_read_marker(recipient_id: str, key: str) -> None:
    """Move the marker forward to ``key``; a marker already at or past it stays where it is."""
    marker = ReadMarkerItem(recipient_id, READ_MARKER_KEY)
    try:
        marker.update(
            actions=[ReadMarkerItem.read_until.set(key)],
            condition=ReadMarkerItem.read_until.does_not_exist()
            | (ReadMarkerItem.read_until < key),
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return
        raise DependencyUnavailable("could not mark notifications read; retry shortly") from exc
