"""The fan-out worker: one SQS message, one page of followers."""

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from chalice import Blueprint
from chalice.app import SQSEvent

from chalicelib.core.config import get_settings
from chalicelib.feed import fanout
from chalicelib.feed.consumers import fanout_queue
from chalicelib.feed.queue import decode_job

feed_jobs = Blueprint(__name__)


def _run(record: SQSRecord) -> None:
    fanout.run_job(decode_job(record.body), fanout_queue())


@feed_jobs.on_sqs_message(queue=get_settings().fanout_queue, batch_size=1)
def fanout_worker(event: SQSEvent) -> dict:
    return process_partial_response(
        event=event.to_dict(),
        record_handler=_run,
        processor=BatchProcessor(event_type=EventType.SQS),
        context=event.context,
    )
