"""The fan-out worker: one SQS message, one page of followers (``app.py`` subscribes it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import SQSEvent

from chalicelib.core.lazy import lazy_module

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

batch = lazy_module("aws_lambda_powertools.utilities.batch")
fanout = lazy_module("chalicelib.feed.fanout")
consumers = lazy_module("chalicelib.feed.consumers")
queue = lazy_module("chalicelib.feed.queue")


def _run(record: SQSRecord) -> None:
    fanout.run_job(queue.decode_job(record.body), consumers.fanout_queue())


def fanout_worker(event: SQSEvent) -> dict:
    return batch.process_partial_response(
        event=event.to_dict(),
        record_handler=_run,
        processor=batch.BatchProcessor(event_type=batch.EventType.SQS),
        context=event.context,
    )
