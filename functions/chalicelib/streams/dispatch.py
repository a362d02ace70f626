"""One Lambda per table stream, handing each record to every consumer of that table.

AWS advises at most two readers per stream shard, and the posts table alone has three
consumers (feed fan-out, notifications, search), so each table's stream has one event source
mapping whose handler calls the consumers in turn. Records are processed with Powertools'
``BatchProcessor``: a record whose consumer raises is reported as a batch item failure and
redelivered, so every consumer must be idempotent per record.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from chalicelib.core.lazy import lazy_module
from chalicelib.core.observability import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities import batch
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
        DynamoDBRecord,
    )
else:
    batch = lazy_module("aws_lambda_powertools.utilities.batch")

type StreamConsumer = Callable[[DynamoDBRecord], None]


def dispatch_records(
    event: dict[str, Any], context: Any, consumers: Sequence[StreamConsumer]
) -> PartialItemFailureResponse:
    """Run every consumer on every record; returns Lambda's partial batch response."""

    def handle(record: DynamoDBRecord) -> None:
        for consume in consumers:
            consume(record)

    processor = batch.BatchProcessor(event_type=batch.EventType.DynamoDBStreams)
    response = batch.process_partial_response(
        event=event, record_handler=handle, processor=processor, context=context
    )
    if response.get("batchItemFailures"):
        logger.warning("stream records failed", failures=len(response["batchItemFailures"]))
    return response
