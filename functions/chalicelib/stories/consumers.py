"""What stories do with table changes (stream records); each consumer is idempotent."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
)

from chalicelib.core.clock import epoch_seconds, utc_now
from chalicelib.core.observability import logger
from chalicelib.core.stream_records import removed_by_ttl
from chalicelib.fanout.queue import fanout_queue
from chalicelib.stories import cleanup, fanout
from chalicelib.stories.domain import StoryRef

INSERT, REMOVE = DynamoDBRecordEventName.INSERT, DynamoDBRecordEventName.REMOVE


def _story_ref(image: dict[str, Any]) -> StoryRef:
    return StoryRef(
        str(image["owner_id"]),
        str(image["created_at"]),
        str(image["story_id"]),
        int(image["expires_at"]),
    )


def on_story_record(record: DynamoDBRecord) -> None:
    """A new story goes into trays (fan-out); a removed one has its media purge scheduled,
    whether TTL or the sweeper removed it."""
    stream = record.dynamodb
    if stream is None:
        return
    if record.event_name is INSERT:
        fanout.on_story_created(_story_ref(stream.new_image), fanout_queue())
    elif record.event_name is REMOVE:
        old = stream.old_image
        created = stream.approximate_creation_date_time
        cleanup.schedule_media_purge(
            story_id=str(old["story_id"]),
            owner_id=str(old["owner_id"]),
            media_id=str(old["media"]["media_id"]),
            expires_at=int(old["expires_at"]),
            removed_at=created if created is not None else epoch_seconds(utc_now()),
        )
        logger.info("story removed", story_id=str(old["story_id"]), by_ttl=removed_by_ttl(record))


def on_follow_record(record: DynamoDBRecord) -> None:
    """A new follow: the followee's active stories join the follower's tray (celebrities'
    are pulled at read time instead)."""
    if record.event_name is not INSERT or record.dynamodb is None:
        return
    edge = record.dynamodb.new_image
    fanout.on_followed(str(edge["follower_id"]), str(edge["followee_id"]))
