"""The notifications routes' bodies in and out; pushes use the same rendering."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from chalicelib.core.schema import Output, StrictInput
from chalicelib.notifications.domain import NotificationType, NotificationView
from chalicelib.users.schemas import UserRefOut, render_ref


class MarkReadInput(StrictInput):
    until: Annotated[str, StringConstraints(min_length=1, max_length=128)]


class NotificationOut(Output):
    notification_id: str
    type: NotificationType
    actor: UserRefOut = Field(description="Who liked, commented, followed, asked or mentioned.")
    post_id: str | None = Field(description="The post it is about (like, comment, mention).")
    comment_id: str | None = Field(description="The comment it is about (comment, mention).")
    created_at: str
    read: bool


class NotificationFrame(Output):
    """Pushed to each open WebSocket connection of the recipient as it is stored."""

    type: Literal["notification"] = "notification"
    notification: NotificationOut


def render_notification(view: NotificationView) -> NotificationOut:
    notification = view.notification
    return NotificationOut(
        notification_id=notification.notification_id,
        type=notification.type,
        actor=render_ref(view.actor),
        post_id=notification.post_id,
        comment_id=notification.comment_id,
        created_at=notification.created_at,
        read=view.read,
    )
