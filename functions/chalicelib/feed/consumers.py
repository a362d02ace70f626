"""What the feed does with table changes (stream records); each consumer is idempotent."""

from __future__ import annotations

from functools import cache

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
)

from chalicelib.feed import fanout
from chalicelib.feed.queue import FanoutQueue, SqsFanoutQueue
from chalicelib.posts.domain import PostRef

INSERT, MODIFY, REMOVE = (
    DynamoDBRecordEventName.INSERT,
    DynamoDBRecordEventName.MODIFY,
    DynamoDBRecordEventName.REMOVE,
)


@cache
def fanout_queue() -> FanoutQueue:
    return SqsFanoutQueue()


def _post_ref(image: dict) -> PostRef:
    return PostRef(str(image["created_at"]), str(image["post_id"]), str(image["author_id"]))


def on_post_record(record: DynamoDBRecord) -> None:
    if record.event_name is INSERT:
        fanout.on_post_created(_post_ref(record.dynamodb.new_image), fanout_queue())
    elif record.event_name is REMOVE:
        fanout.on_post_deleted(_post_ref(record.dynamodb.old_image), fanout_queue())


def on_follow_record(record: DynamoDBRecord) -> None:
    # MODIFY is the celebrity tag being added to an edge: nothing for the feed to do.
    if record.event_name is INSERT:
        edge = record.dynamodb.new_image
        fanout.on_followed(edge["follower_id"], edge["followee_id"])
    elif record.event_name is REMOVE:
        edge = record.dynamodb.old_image
        fanout.on_unfollowed(edge["follower_id"], edge["followee_id"])


def on_user_record(record: DynamoDBRecord) -> None:
    if record.event_name not in (INSERT, MODIFY):
        return
    user = record.dynamodb.new_image
    fanout.on_follower_count_changed(
        str(user["user_id"]), int(user.get("follower_count", 0)), fanout_queue()
    )
