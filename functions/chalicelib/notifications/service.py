"""Notifications: recorded from other features' changes, listed, and marked read."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from chalicelib.core.clock import utc_now
from chalicelib.core.config import get_settings
from chalicelib.core.errors import NotFound
from chalicelib.core.observability import logger, metrics
from chalicelib.core.pagination import Page, PageRequest
from chalicelib.notifications import repository
from chalicelib.notifications.domain import (
    Notification,
    NotificationView,
    PostOf,
    changes,
    decode_notification_id,
    is_read,
)
from chalicelib.notifications.schemas import NotificationFrame, render_notification
from chalicelib.users import repository as users
from chalicelib.websocket.push import FramePusher


def _ttl() -> timedelta:
    return timedelta(days=get_settings().notification_ttl_days)


def record_change(
    before: Iterable[Notification], after: Iterable[Notification], pusher: FramePusher
) -> int:
    """Bring the stored notifications in line with one change of a source item.

    What the item meant before and no longer means is deleted; what it means now and did not
    is stored, then pushed. Every write is keyed by the source item, so a redelivered record
    stores nothing new and pushes nothing again. Returns how many were stored.
    """
    diff = changes(before, after)
    ttl = _ttl()
    for notification in diff.withdrawn:
        repository.delete_notification(notification.recipient_id, notification.key)
    stored = [n for n in diff.stored if repository.store_notification(n, ttl)]
    if diff.withdrawn or stored:
        logger.info("notifications changed", stored=len(stored), withdrawn=len(diff.withdrawn))
        metrics.add_metric(name="NotificationsStored", unit="Count", value=len(stored))
    _push(stored, pusher)
    return len(stored)


def forget_post(post: PostOf) -> int:
    """A deleted post takes with it what its author was told about it (likes, comments).

    Likes and comments outlive their post in their tables, so no removal of theirs would
    withdraw these. Idempotent. Returns how many were withdrawn.
    """
    keys = repository.keys_about_post(post.author_id, post.post_id, post.created_at)
    for key in keys:
        repository.delete_notification(post.author_id, key)
    if keys:
        logger.info(
            "notifications of a deleted post withdrawn", post_id=post.post_id, count=len(keys)
        )
    return len(keys)


def notification_ttl() -> timedelta:
    """How long a notification lasts, for features that store one in their own transaction."""
    return _ttl()


def deliver(stored: Iterable[Notification], pusher: FramePusher) -> None:
    """Push notifications a feature stored in its own transaction (follow requests), as
    ``record_change`` pushes what it stores: best effort, never raises."""
    _push(list(stored), pusher)


def _push(stored: list[Notification], pusher: FramePusher) -> None:
    """Best effort: the notifications are stored, so a failure here only costs liveness."""
    if not stored:
        return
    try:
        actors = users.get_users(n.actor_id for n in stored)
    except Exception:
        logger.exception("notification push skipped: actors unreadable")
        return
    for notification in stored:
        actor = actors.get(notification.actor_id)
        if actor is None:
            continue
        try:
            rendered = render_notification(NotificationView(notification, actor, read=False))
            frame = NotificationFrame(notification=rendered).model_dump(mode="json")
            pusher.push_frame(notification.recipient_id, frame)
        except Exception:
            logger.exception("notification push failed", recipient_id=notification.recipient_id)


def notifications(recipient_id: str, page: PageRequest) -> Page[NotificationView]:
    """A page of the recipient's notifications, newest first, with actors and read flags.

    Actors come in one BatchGetItem; a notification whose actor no longer exists is left out.
    """
    found = repository.notifications_page(recipient_id, page, utc_now(), _ttl())
    read_until = repository.read_until(recipient_id) if found.items else None
    actors = users.get_users(n.actor_id for n in found.items)
    views = [
        NotificationView(n, actors[n.actor_id], is_read(n, read_until))
        for n in found.items
        if n.actor_id in actors
    ]
    return Page(views, found.position)


def mark_read(recipient_id: str, until: str) -> None:
    """Mark read everything up to and including the notification ``until`` names.

    Raises
    ------
    NotFound
        If ``until`` is not the id of one of the recipient's unexpired notifications.
    """
    key = decode_notification_id(until)
    if not repository.is_stored(recipient_id, key, utc_now(), _ttl()):
        raise NotFound("until names none of your notifications; use an id from the list")
    repository.advance_read_marker(recipient_id, key)
