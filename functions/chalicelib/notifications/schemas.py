"""The notifications routes' bodies in and out; pushes use the same rendering."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import StringConstraints

from chalicelib.core.schema import StrictInput
from chalicelib.notifications.domain import NotificationView
from chalicelib.users.schemas import render_summary

_ACTOR_FIELDS = ("user_id", "username", "avatar")


class MarkReadInput(StrictInput):
    until: Annotated[str, StringConstraints(min_length=1, max_length=128)]


def render_notification(view: NotificationView) -> dict[str, Any]:
    notification, actor = view.notification, render_summary(view.actor)
    body: dict[str, Any] = {
        "notification_id": notification.notification_id,
        "type": notification.type.value,
        "actor": {field: actor[field] for field in _ACTOR_FIELDS},
    }
    if notification.post_id is not None:
        body["post_id"] = notification.post_id
    if notification.comment_id is not None:
        body["comment_id"] = notification.comment_id
    body["created_at"] = notification.created_at
    body["read"] = view.read
    return body
