"""What media does with its own table's changes (stream records); idempotent."""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
)

from chalicelib.core.observability import logger
from chalicelib.core.stream_records import removed_by_ttl
from chalicelib.media import cleanup


def on_media_record(record: DynamoDBRecord) -> None:
    """A media item is gone, released or expired by TTL: its objects go too.

    The old image names the owner (the original's key) and the renditions it recorded; the
    renditions an unfinished upload may have written are deleted by name all the same.
    """
    if record.event_name is not DynamoDBRecordEventName.REMOVE or record.dynamodb is None:
        return
    old = record.dynamodb.old_image
    renditions = old.get("renditions") or {}
    cleanup.delete_objects(
        owner_id=str(old["owner_id"]),
        media_id=str(old["media_id"]),
        recorded_keys=[str(value["key"]) for value in renditions.values()],
    )
    logger.info(
        "removed media's objects deleted",
        media_id=str(old["media_id"]),
        by_ttl=removed_by_ttl(record),
    )
