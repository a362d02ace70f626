"""What the follow graph does with table changes (stream records); each consumer is idempotent."""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
)

from chalicelib.follows import service


def on_user_record(record: DynamoDBRecord) -> None:
    """An account that went from private to public approves its pending follow requests.

    Only that change of ``is_private`` does anything (counters move on every follow and
    post); approving is idempotent, so a redelivered record approves nothing twice.
    """
    if record.event_name is not DynamoDBRecordEventName.MODIFY or record.dynamodb is None:
        return
    old, new = record.dynamodb.old_image or {}, record.dynamodb.new_image or {}
    if old.get("is_private") is True and new.get("is_private") is False:
        service.approve_all_pending(str(new["user_id"]))
