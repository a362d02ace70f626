"""What notifications make of table changes (stream records); each consumer is idempotent.

Each consumer reads what the source item meant before the change (its old image) and after
it (its new image), and lets the service store and withdraw the difference: an insert
notifies, a removal (unlike, unfollow, deleted comment or post) withdraws, and a modification
that leaves the notifications as they were writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
)

from chalicelib.core.config import get_settings
from chalicelib.core.observability import logger
from chalicelib.notifications import service
from chalicelib.notifications.domain import (
    Notification,
    UnreadableRecord,
    comment_notifications,
    follow_notifications,
    like_notifications,
    post_notifications,
    post_of,
)
from chalicelib.notifications.routes import notifications_api
from chalicelib.websocket import push

Meaning = Callable[[Mapping[str, Any]], list[Notification]]


@cache
def notification_pusher() -> push.FramePusher:
    """The pusher notifications go through, made once per Lambda.

    A stream handler has no WebSocket event to configure ``app.websocket_api`` from, so
    ``frame_pusher`` configures it from the settings. The app is the one the notifications
    blueprint is registered on, which is the app running this handler, so its boto3 session
    (routed to the local WebSocket gateway on the local stack) is used unchanged.
    """
    settings = get_settings()
    if not (settings.websocket_api_id and settings.websocket_stage):
        # frame_pusher would make no live pusher either; said here, once per Lambda.
        logger.info("live notifications off: WEBSOCKET_API_ID and WEBSOCKET_STAGE are unset")
        return push.NoLivePush()
    return push.frame_pusher(notifications_api.current_app.websocket_api)


def _record_change(record: DynamoDBRecord, meaning: Meaning) -> None:
    if record.dynamodb is None:
        raise UnreadableRecord("the record has no dynamodb images")
    old, new = record.dynamodb.old_image, record.dynamodb.new_image
    service.record_change(
        meaning(old) if old else [], meaning(new) if new else [], notification_pusher()
    )


def on_follow_record(record: DynamoDBRecord) -> None:
    _record_change(record, follow_notifications)


def on_like_record(record: DynamoDBRecord) -> None:
    _record_change(record, like_notifications)


def on_comment_record(record: DynamoDBRecord) -> None:
    _record_change(record, comment_notifications)


def on_post_record(record: DynamoDBRecord) -> None:
    _record_change(record, post_notifications)
    if record.event_name is DynamoDBRecordEventName.REMOVE and record.dynamodb is not None:
        service.forget_post(post_of(record.dynamodb.old_image))
