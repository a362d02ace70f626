"""What posts make of their own table's changes (stream records); idempotent."""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
)

from chalicelib.core.observability import logger
from chalicelib.posts import repository


def on_post_record(record: DynamoDBRecord) -> None:
    """A deleted post's likes and comments go too: no read shows them once the post is gone,
    but they would stay in their tables for ever."""
    if record.event_name is not DynamoDBRecordEventName.REMOVE or record.dynamodb is None:
        return
    post_id = (record.dynamodb.keys or {}).get("post_id")
    if post_id:
        deleted = repository.delete_reactions(str(post_id))
        logger.info("deleted post's likes and comments removed", post_id=post_id, count=deleted)
