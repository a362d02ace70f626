"""What the feed does with table changes (stream records); each consumer is idempotent."""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
    StreamRecord,
)

from chalicelib.fanout.queue import fanout_queue
from chalicelib.feed import fanout
from chalicelib.posts.domain import PostRef

INSERT, MODIFY, REMOVE = (
    DynamoDBRecordEventName.INSERT,
    DynamoDBRecordEventName.MODIFY,
    DynamoDBRecordEventName.REMOVE,
)


def _post_ref(image: dict) -> PostRef:
    return PostRef(str(image["created_at"]), str(image["post_id"]), str(image["author_id"]))


def _change(record: DynamoDBRecord) -> StreamRecord:
    """The record's images; every record of the tables' streams (NEW_AND_OLD_IMAGES) has them."""
    if record.dynamodb is None:
        raise ValueError("a stream record without its dynamodb part")
    return record.dynamodb


def on_post_record(record: DynamoDBRecord) -> None:
    change = _change(record)
    if record.event_name is INSERT:
        fanout.on_post_created(_post_ref(change.new_image), fanout_queue())
    elif record.event_name is REMOVE:
        fanout.on_post_deleted(_post_ref(change.old_image), fanout_queue())


def on_follow_record(record: DynamoDBRecord) -> None:
    # MODIFY is the celebrity tag being added to an edge: nothing for the feed to do.
    change = _change(record)
    if record.event_name is INSERT:
        edge = change.new_image
        fanout.on_followed(edge["follower_id"], edge["followee_id"])
    elif record.event_name is REMOVE:
        edge = change.old_image
        fanout.on_unfollowed(edge["follower_id"], edge["followee_id"])


def on_user_record(record: DynamoDBRecord) -> None:
    if record.event_name not in (INSERT, MODIFY):
        return
    user = _change(record).new_image
    fanout.on_follower_count_changed(
        str(user["user_id"]), int(user.get("follower_count", 0)), fanout_queue()
    )
