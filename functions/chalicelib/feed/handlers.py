"""The fan-out worker: one SQS message, one page of followers (``app.py`` subscribes it)."""

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from chalice.app import SQSEvent

from chalicelib.feed import fanout
from chalicelib.feed.consumers import fanout_queue
from chalicelib.feed.queue import decode_job


def _run(record: SQSRecord) -> None:
    fanout.run_job(decode_job(record.body), fanout_queue())


def fanout_worker(event: SQSEvent) -> dict:
    return process_partial_response(
        event=event.to_dict(),
        record_handler=_run,
        processor=BatchProcessor(event_type=EventType.SQS),
        context=event.context,
    )
