"""The fan-out worker: one SQS message, one page of followers (``app.py`` subscribes it, and
registers each feature's kinds of job: ``inboxes.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from chalice.app import SQSEvent

from chalicelib.core.lazy import lazy_module

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities import batch
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from chalicelib.fanout import queue, worker
else:
    batch = lazy_module("aws_lambda_powertools.utilities.batch")
    queue = lazy_module("chalicelib.fanout.queue")
    worker = lazy_module("chalicelib.fanout.worker")


def _run(record: SQSRecord) -> None:
    worker.run_job(queue.decode_job(record.body), queue.fanout_queue())


def fanout_worker(event: SQSEvent) -> PartialItemFailureResponse:
    return batch.process_partial_response(
        event=event.to_dict(),
        record_handler=_run,
        processor=batch.BatchProcessor(event_type=batch.EventType.SQS),
        # Chalice annotates it as a dict; it is Lambda's context object.
        context=cast("LambdaContext | None", event.context),
    )
